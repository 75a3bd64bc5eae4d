package osimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ros-os/ros/pkg/initramfs"
)

// WritePXE writes BASE-kernel, BASE-cmdline and BASE-initrd.img: the stage-1
// initramfs with the payload inside at /rootfs.squashfs, which stage 1 finds
// first and boots the same way as a disk slot.
func WritePXE(ctx context.Context, p *Payload, base string, modTime time.Time) error {
	if err := copyFile(p.Kernel, base+"-kernel"); err != nil {
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	if err := os.WriteFile(base+"-cmdline", []byte(p.Cmdline+"\n"), 0o644); err != nil {
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	staged := filepath.Join(p.dir, "tree")
	var modDir string
	if m, _ := filepath.Glob(filepath.Join(staged, modulesDir, "*", "modules.dep")); len(m) == 1 {
		modDir = filepath.Dir(m[0])
	}
	tmp := base + "-initrd.img.tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	err = initramfs.Build(ctx, f, initramfs.Options{
		Init:           filepath.Join(staged, StageOnePath),
		ModulesDir:     modDir,
		RootfsSquashfs: p.Squashfs,
		ModTime:        modTime,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	return os.Rename(tmp, base+"-initrd.img")
}

func spoolFile(dst string, r io.Reader) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return spoolFile(dst, in)
}
