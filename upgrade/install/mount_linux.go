package install

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/disk"
)

// canMount reports whether this process may attach loop devices and mount.
func canMount() bool { return os.Geteuid() == 0 }

// withState mounts the ext4 in the disk's partition p through a loop
// device (so it works the same on an image file and on a device the
// kernel has not re-read yet), calls fn with the mount point, and
// unmounts.
func (t *target) withState(p disk.Partition, fn func(dir string) error) (err error) {
	loop, err := attachLoop(t.f, p.Start, p.Size)
	if err != nil {
		return err
	}
	defer func() {
		if derr := detachLoop(loop); err == nil {
			err = derr
		}
	}()
	dir, err := os.MkdirTemp("", "ros-install-state-")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	if err := unix.Mount(loop.Name(), dir, "ext4", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", loop.Name(), p.Label, dir, err)
	}
	ferr := fn(dir)
	if err := unix.Unmount(dir, 0); err != nil {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return ferr
}

// attachLoop binds a free loop device to size bytes of backing at off.
func attachLoop(backing *os.File, off, size int64) (*os.File, error) {
	if off < 0 || size < 0 {
		return nil, fmt.Errorf("loop device: offset %d, size %d", off, size)
	}
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("loop device: %w", err)
	}
	defer ctl.Close()
	for attempt := 0; ; attempt++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("loop device: get free: %w", err)
		}
		loop, err := os.OpenFile(fmt.Sprintf("/dev/loop%d", n), os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("loop device: %w", err)
		}
		cfg := unix.LoopConfig{Fd: uint32(backing.Fd())} //nolint:gosec // G115: a file descriptor is a small non-negative int
		cfg.Info.Offset = uint64(off)
		cfg.Info.Sizelimit = uint64(size)
		cfg.Info.Flags = unix.LO_FLAGS_AUTOCLEAR
		err = unix.IoctlLoopConfigure(int(loop.Fd()), &cfg)
		if err == nil {
			return loop, nil
		}
		loop.Close()
		// Another process took the device between GET_FREE and CONFIGURE.
		if !errors.Is(err, unix.EBUSY) || attempt == 5 {
			return nil, fmt.Errorf("loop device %s: configure: %w", filepath.Base(loop.Name()), err)
		}
	}
}

// detachLoop frees the loop device (autoclear would on the last close, but
// do it now so the backing disk is released before the install returns).
func detachLoop(loop *os.File) error {
	err := unix.IoctlSetInt(int(loop.Fd()), unix.LOOP_CLR_FD, 0)
	if cerr := loop.Close(); err == nil || errors.Is(err, unix.ENXIO) {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("detach %s: %w", loop.Name(), err)
	}
	return nil
}

// writeFileSync writes data to path (mode perm) through a temporary file,
// fsyncs it and its directory.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
