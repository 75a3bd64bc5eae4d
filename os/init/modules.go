package rosinit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/kmod"
)

// BaseModules are loaded by name after coldplug, whatever the hardware:
// ACPI buttons have no device that coldplug always sees on every machine,
// and the power button is only readable through evdev. A name the kernel
// image does not ship is skipped quietly.
var BaseModules = []string{"button", "evdev"}

// ColdplugModules loads the modules matching every device in /sys, repeating
// while drivers bring new devices, then BaseModules. A kernel without
// modules is not an error.
func ColdplugModules(ctx context.Context) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	dir := filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]))
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil // a kernel with everything built in
	}
	ix, err := kmod.Open(dir)
	if err != nil {
		return err
	}
	l := kmod.NewLoader(ix, kmod.Insert, nil)
	for pass := 0; pass < 8; pass++ {
		n, err := l.Coldplug(ctx, "/sys")
		if err != nil {
			return fmt.Errorf("coldplug: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return loadBase(ctx, l, BaseModules)
}

// loadBase loads names, skipping those that are neither modules nor built
// into the kernel.
func loadBase(ctx context.Context, l *kmod.Loader, names []string) error {
	var errs []error
	for _, n := range names {
		if err := l.Load(ctx, n); err != nil && !errors.Is(err, kmod.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
