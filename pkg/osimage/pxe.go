package osimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ros-os/ros/pkg/initramfs"
)

// WritePXE writes BASE-kernel, BASE-cmdline and BASE-initrd.img: the stage-1
// initramfs followed by a second archive holding the payload at
// /rootfs.squashfs, which stage 1 finds first and boots the same way as a
// disk slot.
func WritePXE(ctx context.Context, p *Payload, base string, modTime time.Time) error {
	if err := copyFile(p.Kernel, base+"-kernel"); err != nil {
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	if err := os.WriteFile(base+"-cmdline", []byte(p.Cmdline+"\n"), 0o644); err != nil {
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	tmp := base + "-initrd.img.tmp"
	if err := writeInitrd(ctx, tmp, p, modTime); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	return os.Rename(tmp, base+"-initrd.img")
}

func writeInitrd(ctx context.Context, out string, p *Payload, modTime time.Time) error {
	in, err := os.Open(p.Initrd)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, in)
	if err == nil {
		err = initramfs.AppendRootfs(ctx, f, n, p.Squashfs, modTime)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
