//go:build !rosdevice

package grub

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/ros-os/ros/pkg/debpkg"
	"github.com/ros-os/ros/pkg/layer"
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
	if err := unpackDir(f, path.Join("usr/lib/grub", format), stage); err != nil {
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

// unpackDir writes the regular files directly inside dir of a package tar
// (a path like layer.Clean gives) to out, read the way image recipes read
// theirs (layer.Tree.ReadTar). Subdirectories, links and everything
// outside dir are left out.
func unpackDir(r io.Reader, dir, out string) error {
	staging := out + ".staged"
	for _, d := range []string{out, staging} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	defer os.RemoveAll(staging)
	t := layer.NewTree()
	if err := t.ReadTar(r, staging, func(p string) bool { return path.Dir(p) != dir }); err != nil {
		return err
	}
	for _, p := range t.Paths() {
		e, _ := t.Get(p)
		if e.Type != tar.TypeReg || e.Source == "" {
			continue
		}
		// A link, not a rename: hard links in the tar share one staged file.
		if err := os.Link(e.Source, filepath.Join(out, path.Base(p))); err != nil {
			return fmt.Errorf("unpack %s: %w", p, err)
		}
	}
	return nil
}
