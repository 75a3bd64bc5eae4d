package bootenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// RunDir is where MountESP makes its mount points.
const RunDir = "/run/ros"

// ESPDir is the folder of the grubenv pair inside a mounted ESP.
const ESPDir = "EFI/BOOT"

// MountESP mounts the FAT ESP dev (e.g. /dev/sda2) at dir, made if
// missing, or with dir "" at a new private directory under RunDir, and
// returns the mount point with the function that unmounts it (and removes
// a directory it made under RunDir). The grubenv pair is in
// filepath.Join(dir, ESPDir); see OpenESP.
func MountESP(ctx context.Context, dev, dir string) (string, func() error, error) {
	made := false
	if dir == "" {
		if err := os.MkdirAll(RunDir, 0o755); err != nil {
			return "", nil, fmt.Errorf("mount ESP %s: %w", dev, err)
		}
		d, err := os.MkdirTemp(RunDir, "esp-")
		if err != nil {
			return "", nil, fmt.Errorf("mount ESP %s: %w", dev, err)
		}
		dir, made = d, true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("mount ESP %s: %w", dev, err)
	}
	umount, err := mount(ctx, dev, dir, "vfat")
	if err != nil {
		if made {
			os.Remove(dir)
		}
		return "", nil, err
	}
	return dir, func() error {
		if err := umount(); err != nil {
			return err
		}
		if made {
			if err := os.Remove(dir); err != nil {
				return fmt.Errorf("unmount ESP %s: %w", dev, err)
			}
		}
		return nil
	}, nil
}

// OpenESP mounts the ESP dev as MountESP(ctx, dev, "") does and returns
// the DirStore of its grubenv pair and the function that unmounts it.
func OpenESP(ctx context.Context, dev string) (*DirStore, func() error, error) {
	dir, unmount, err := MountESP(ctx, dev, "")
	if err != nil {
		return nil, nil, err
	}
	return &DirStore{Dir: filepath.Join(dir, ESPDir)}, unmount, nil
}

// mount mounts dev at dir (nosuid, nodev, noexec, private propagation, so
// the mount does not show up in other mount namespaces).
func mount(ctx context.Context, dev, dir, fstype string) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mount ESP %s: %w", dev, err)
	}
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount(dev, dir, fstype, flags, ""); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return nil, fmt.Errorf("mount ESP %s on %s: %w (is the %s module loaded?)", dev, dir, err, fstype)
		}
		return nil, fmt.Errorf("mount ESP %s on %s: %w", dev, dir, err)
	}
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
		if uerr := unix.Unmount(dir, 0); uerr != nil {
			return nil, fmt.Errorf("mount ESP %s on %s: make private: %w; unmount: %w", dev, dir, err, uerr)
		}
		return nil, fmt.Errorf("mount ESP %s on %s: make private: %w", dev, dir, err)
	}
	return func() error {
		var err error
		for i := 0; i < 5; i++ {
			if err = unix.Unmount(dir, 0); !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("unmount ESP %s from %s: %w", dev, dir, err)
		}
		return nil
	}, nil
}
