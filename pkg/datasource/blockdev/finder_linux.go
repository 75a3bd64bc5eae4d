package blockdev

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Defaults for Finder fields left empty.
const (
	DefaultSysBlock = "/sys/class/block"
	DefaultDevDir   = "/dev"
)

// Finder finds a filesystem by label among the block devices listed in
// SysBlock and mounts it read-only (nosuid, nodev, noexec) on a fresh
// directory under MountBase. It implements datasource.Finder.
type Finder struct {
	SysBlock  string       // DefaultSysBlock when empty
	DevDir    string       // DefaultDevDir when empty
	MountBase string       // os.TempDir() when empty
	Logger    *slog.Logger // debug progress; nil discards
}

// Device is a block device whose filesystem Probe recognised.
type Device struct {
	Path   string // e.g. /dev/sr0
	FSType string
	Label  string
}

// Scan probes every block device with a non-zero size and returns those
// holding a recognised filesystem, in name order. Devices that cannot be
// opened (an empty CD drive) are skipped.
func (f *Finder) Scan(ctx context.Context) ([]Device, error) {
	sys := orDefault(f.SysBlock, DefaultSysBlock)
	entries, err := os.ReadDir(sys)
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var devs []Device
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		size, err := os.ReadFile(filepath.Join(sys, name, "size"))
		if err != nil || strings.TrimSpace(string(size)) == "0" {
			continue
		}
		path := filepath.Join(orDefault(f.DevDir, DefaultDevDir), name)
		fstype, label, err := probeFile(path)
		if err != nil {
			f.logger().Debug("skip block device", "device", path, "err", err)
			continue
		}
		devs = append(devs, Device{Path: path, FSType: fstype, Label: label})
	}
	return devs, nil
}

func probeFile(path string) (string, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer fh.Close()
	return Probe(fh)
}

// Find mounts the first device whose label matches label (without regard to
// case) and returns the mount directory, the device and a release function
// that unmounts it and removes the directory. With no such device the error
// matches fs.ErrNotExist.
func (f *Finder) Find(ctx context.Context, label string) (string, string, func() error, error) {
	devs, err := f.Scan(ctx)
	if err != nil {
		return "", "", nil, err
	}
	for _, d := range devs {
		if !strings.EqualFold(d.Label, label) {
			continue
		}
		dir, release, err := f.Mount(d)
		if err != nil {
			return "", "", nil, err
		}
		return dir, d.Path, release, nil
	}
	return "", "", nil, fmt.Errorf("no block device with a filesystem labelled %q: %w", label, fs.ErrNotExist)
}

// Mount mounts d read-only on a new directory and returns it with a release
// function.
func (f *Finder) Mount(d Device) (string, func() error, error) {
	dir, err := os.MkdirTemp(f.MountBase, "ros-datasource-")
	if err != nil {
		return "", nil, fmt.Errorf("mount %s: %w", d.Path, err)
	}
	flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := unix.Mount(d.Path, dir, d.FSType, flags, ""); err != nil {
		os.Remove(dir)
		return "", nil, fmt.Errorf("mount %s (%s) on %s: %w", d.Path, d.FSType, dir, err)
	}
	f.logger().Debug("mounted", "device", d.Path, "fstype", d.FSType, "dir", dir)
	release := func() error {
		if err := unix.Unmount(dir, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
		return nil
	}
	return dir, release, nil
}

func (f *Finder) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
