package initrd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const probeInterval = 250 * time.Millisecond

// findRoot picks the root, in the order of the contract: a squashfs appended
// to the initramfs, then ros.slot, then ros.live. Devices may show up late
// (USB, slow controllers): slot and live lookups retry until RootWait.
func findRoot(ctx context.Context, s *State) error {
	if fi, err := os.Stat(s.Sys.Path(EmbeddedFS)); err == nil && fi.Mode().IsRegular() {
		s.Root = Root{Kind: "embedded", Source: EmbeddedFS, File: true}
		return nil
	}
	var try func() (Root, bool, error)
	var what string
	switch {
	case s.Config.Slot != "":
		what = "a partition named ROS_" + s.Config.Slot
		try = func() (Root, bool, error) { return findSlot(s, "ROS_"+s.Config.Slot) }
	case s.Config.Live:
		what = "a live medium holding " + LiveFS
		try = func() (Root, bool, error) { return findLive(s) }
	default:
		return fmt.Errorf("%w: no %s in the initramfs and neither ros.slot= nor ros.live on the kernel command line", ErrNoRoot, EmbeddedFS)
	}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		root, ok, err := try()
		if err != nil {
			return err
		}
		if ok {
			s.Root = root
			return nil
		}
		if time.Since(start) >= s.Config.RootWait || attempt >= int(s.Config.RootWait/probeInterval) {
			return fmt.Errorf("%w: waited %s for %s", ErrNoRoot, s.Config.RootWait, what)
		}
		if attempt == 0 {
			s.Logf("waiting up to %s for %s", s.Config.RootWait, what)
		}
		if err := s.sleep(ctx, probeInterval); err != nil {
			return err
		}
		if s.Rescan != nil {
			s.Rescan(ctx)
		}
	}
}

// findSlot looks for the GPT partition named name (PARTNAME in sysfs).
func findSlot(s *State, name string) (Root, bool, error) {
	devs, err := listBlockDevs(s.Sys)
	if err != nil {
		return Root{}, false, err
	}
	for _, d := range devs {
		if d.PartName == name {
			return Root{Kind: "slot", Source: d.Dev}, true, nil
		}
	}
	return Root{}, false, nil
}

// findLive mounts candidate media read-only at MediaDir and keeps the first
// holding LiveFS: CD drives first, then whole disks (a hybrid ISO written to
// a USB stick), then partitions.
func findLive(s *State) (Root, bool, error) {
	devs, err := listBlockDevs(s.Sys)
	if err != nil {
		return Root{}, false, err
	}
	rank := func(d blockDev) int {
		switch {
		case strings.HasPrefix(d.Name, "sr"):
			return 0
		case d.Type == "disk":
			return 1
		}
		return 2
	}
	for r := 0; r <= 2; r++ {
		for _, d := range devs {
			if rank(d) != r {
				continue
			}
			fstype := fsType(s.Sys, d.Dev)
			switch fstype {
			case "iso9660", "vfat", "ext4":
			default:
				continue
			}
			if err := os.MkdirAll(s.Sys.Path(MediaDir), 0o755); err != nil {
				return Root{}, false, err
			}
			if err := s.Sys.Mount(d.Dev, MediaDir, fstype, unix.MS_RDONLY, ""); err != nil {
				s.Logf("live: cannot mount %s (%s): %v", d.Dev, fstype, err)
				continue
			}
			if fi, err := os.Stat(s.Sys.Path(MediaDir + LiveFS)); err == nil && fi.Mode().IsRegular() {
				return Root{Kind: "live", Source: MediaDir + LiveFS, File: true, Media: d.Dev}, true, nil
			}
			if err := s.Sys.Unmount(MediaDir); err != nil {
				return Root{}, false, fmt.Errorf("unmount %s: %w", MediaDir, err)
			}
		}
	}
	return Root{}, false, nil
}
