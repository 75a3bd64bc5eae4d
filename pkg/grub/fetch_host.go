//go:build !rosdevice

package grub

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/ros-os/ros/pkg/debpkg"
)

// fetchModules unpacks EFIModulesPackage with debpkg and keeps only
// usr/lib/grub/<format>/ of it, in dir.
func fetchModules(ctx context.Context, cacheDir, dir, format string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(parent, ".fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	out := filepath.Join(work, "packages.tar")
	err = debpkg.Extract(ctx, debpkg.Options{
		Suite: EFIModulesSuite, Packages: []string{EFIModulesPackage},
		CacheDir: filepath.Join(cacheDir, "apt-"+EFIModulesSuite),
	}, out)
	if err != nil {
		return err
	}
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	stage := filepath.Join(work, format)
	if err := extractDir(f, path.Join("usr/lib/grub", format), stage); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(stage, "kernel.img")); err != nil {
		return fmt.Errorf("%s has no usr/lib/grub/%s/kernel.img", EFIModulesPackage, format)
	}
	if err := os.Rename(stage, dir); err != nil {
		// Another build may have put the modules there first.
		if _, serr := os.Stat(filepath.Join(dir, "kernel.img")); serr != nil {
			return err
		}
	}
	return nil
}
