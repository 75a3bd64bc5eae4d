package initrd

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"
)

// mountState mounts the state partition at /var. First the partition grows
// to the end of a disk larger than the image written to it (growPartition),
// then, mounted, its ext4 grows to fill the partition (online, with
// EXT4_IOC_RESIZE_FS: the image written to disk is small). Without one, or
// when it cannot be mounted, /var is a tmpfs and the console says that
// nothing persists.
func mountState(ctx context.Context, s *State) error {
	target := NewRoot + "/var"
	d, label, ok, err := findState(s)
	if err != nil {
		return err
	}
	if ok {
		growPartition(s, d)
		sb, _ := readExt4(s.Sys, d.Dev)
		err := s.Sys.Mount(d.Dev, target, "ext4", unix.MS_NODEV|unix.MS_NOSUID, "")
		if err == nil {
			s.Var = d.Dev
			s.Logf("state: %s (%s) mounted on /var", d.Dev, label)
			growState(s, d, sb, target)
			return nil
		}
		s.Logf("warning: cannot mount state %s (%s): %v", d.Dev, label, err)
	}
	if err := s.Sys.Mount("tmpfs", target, "tmpfs", unix.MS_NODEV|unix.MS_NOSUID, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on /var: %w", err)
	}
	s.Var = "tmpfs"
	s.Logf("no usable state partition (%s): /var is a tmpfs, nothing written there survives a reboot", StateLabels[0])
	return nil
}

// findState looks for a partition named after StateLabels, then for an ext4
// filesystem labelled so.
func findState(s *State) (blockDev, string, bool, error) {
	devs, err := listBlockDevs(s.Sys)
	if err != nil {
		return blockDev{}, "", false, err
	}
	for _, label := range StateLabels {
		for _, d := range devs {
			if d.PartName == label {
				return d, label, true, nil
			}
		}
	}
	for _, label := range StateLabels {
		for _, d := range devs {
			if sb, ok := readExt4(s.Sys, d.Dev); ok && sb.Label == label {
				return d, label, true, nil
			}
		}
	}
	return blockDev{}, "", false, nil
}

// growState resizes the mounted ext4 when its partition is larger. A
// failure is only a warning: the state is usable at its old size.
func growState(s *State, d blockDev, sb ext4Super, mountpoint string) {
	size, err := devSize(s.Sys, d)
	if err != nil || sb.BlockSize == 0 {
		s.Logf("warning: not resizing %s: %v", d.Dev, err)
		return
	}
	want := size / sb.BlockSize
	if want <= sb.Blocks {
		return
	}
	if err := s.Sys.ResizeExt4(mountpoint, want); err != nil {
		s.Logf("warning: resize %s from %d to %d blocks: %v", d.Dev, sb.Blocks, want, err)
		return
	}
	s.Logf("state: grew %s from %d MiB to %d MiB", d.Dev, sb.Blocks*sb.BlockSize>>20, size>>20)
}
