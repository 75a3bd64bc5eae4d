// Package iso writes the ros live ISO: a hybrid image (El Torito BIOS and
// UEFI for CDs, MBR/GPT for USB sticks) made with Debian's grub-mkimage,
// mkfs.fat, mtools and xorriso. It holds the payload at
// /ros/rootfs.squashfs (GRUB reads the kernel and initrd from inside it,
// through a loopback), grub.cfg from pkg/grub, and the install kit
// (pkg/disk.WriteKit) at /ros/install, which `ros install` lays a disk out
// from; the volume label is ROS_LIVE.
//
// The layout is grub-mkrescue's without its extras: GRUB's modules are
// built into the two boot images instead of copied in folders, the EFI
// boot image is a FAT just big enough for BOOTX64.EFI (grub-mkrescue's is a
// fixed 2.88 MB), and there is no HFS+ partition for old Macs.
package iso

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/payload"
	"github.com/ros-os/ros/pkg/grub"
)

// Options describe the ISO to write.
type Options struct {
	Payload string // the payload (see pkg/disk/payload)
	Out     string // ISO to write (replaced atomically)
	Timeout int    // GRUB menu timeout in seconds; default 3
	// ExtraCmdline is appended to the payload's command line.
	ExtraCmdline string
	CacheDir     string // GRUB module cache; default $ROS_CACHE or ~/.cache/ros
	// Date is the volume's modification date, which GRUB reads as the
	// ISO's UUID and its boot images search for; default now.
	Date time.Time
}

// KitDir is where the ISO holds the install kit.
const KitDir = "/ros/install"

// Files of the ISO's boot images.
const (
	BIOSImageFile = "/boot/grub/eltorito.img"
	EFIImageFile  = "/efi.img"
)

// hybridMBR is GRUB's MBR for a USB stick: it loads the El Torito BIOS
// image, which xorriso's --grub2-boot-info tells it where to find.
const hybridMBR = "/usr/lib/grub/i386-pc/boot_hybrid.img"

// tools are the host programs Write runs, each with its Debian package.
var tools = [][2]string{
	{"grub-mkimage", "grub-common"}, {"mkfs.fat", "dosfstools"}, {"mmd", "mtools"},
	{"mcopy", "mtools"}, {"xorriso", "xorriso"},
}

// Write writes the live ISO described by o.
func Write(ctx context.Context, o Options) error {
	if o.Payload == "" || o.Out == "" {
		return fmt.Errorf("write iso: payload and output are required")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t[0]); err != nil {
			return fmt.Errorf("write iso %s: needs %s (apt-get install %s): %w", o.Out, t[0], t[1], err)
		}
	}
	if _, err := os.Stat(hybridMBR); err != nil {
		return fmt.Errorf("write iso %s: needs GRUB's i386-pc files (apt-get install grub-pc-bin): %w", o.Out, err)
	}
	if o.CacheDir == "" {
		d, err := grub.DefaultCacheDir()
		if err != nil {
			return fmt.Errorf("write iso %s: %w", o.Out, err)
		}
		o.CacheDir = d
	}
	if o.Date.IsZero() {
		o.Date = time.Now()
	}
	p, err := payload.Open(o.Payload)
	if err != nil {
		return fmt.Errorf("write iso %s: %w", o.Out, err)
	}
	defer p.Close()

	stage, err := os.MkdirTemp("", "ros-iso-")
	if err != nil {
		return fmt.Errorf("write iso %s: %w", o.Out, err)
	}
	defer os.RemoveAll(stage)
	if err := populate(ctx, stage, p, o); err != nil {
		return fmt.Errorf("write iso %s: %w", o.Out, err)
	}
	if err := bootImages(ctx, stage, o); err != nil {
		return fmt.Errorf("write iso %s: %w", o.Out, err)
	}

	tmp := o.Out + ".tmp"
	os.Remove(tmp)
	args := xorrisoArgs(stage, tmp, o.Date)
	if out, err := exec.CommandContext(ctx, "xorriso", args...).CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write iso %s: xorriso %s: %w: %s", o.Out, strings.Join(args, " "), err, lastLines(out, 10))
	}
	if err := os.Rename(tmp, o.Out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write iso %s: %w", o.Out, err)
	}
	return nil
}

// VolumeUUID is the UUID GRUB gives an ISO9660 volume modified at date
// (xorriso's --modification-date, in UTC).
func VolumeUUID(date time.Time) string {
	d := date.UTC()
	return fmt.Sprintf("%s-%02d", d.Format("2006-01-02-15-04-05"), d.Nanosecond()/1e7)
}

// xorrisoArgs makes a hybrid ISO of stage, as grub-mkrescue would: El
// Torito BIOS (no emulation, patched with its own location) and UEFI
// images, GRUB's MBR for BIOS USB boot, and the EFI image again as a
// partition for UEFI USB boot.
func xorrisoArgs(stage, out string, date time.Time) []string {
	d := date.UTC()
	return []string{
		"-as", "mkisofs", "-graft-points", "-r", "-V", grub.ISOLabel,
		fmt.Sprintf("--modification-date=%s%02d", d.Format("20060102150405"), d.Nanosecond()/1e7),
		"-b", strings.TrimPrefix(BIOSImageFile, "/"), "-no-emul-boot", "-boot-load-size", "4",
		"-boot-info-table", "--grub2-boot-info", "--grub2-mbr", hybridMBR,
		"--efi-boot", strings.TrimPrefix(EFIImageFile, "/"), "-efi-boot-part", "--efi-boot-image",
		"--protective-msdos-label",
		// The boot images first, near the start of the medium, where old
		// BIOSes can reach them.
		"--sort-weight", "0", "/", "--sort-weight", "1", "/boot", "--sort-weight", "1", EFIImageFile,
		"-o", out, stage,
	}
}

// bootImages writes the El Torito BIOS image and the EFI image, a FAT
// holding BOOTX64.EFI, into stage. Both embed the volume's UUID.
func bootImages(ctx context.Context, stage string, o Options) error {
	uuid := VolumeUUID(o.Date)
	if err := grub.Make(ctx, grub.ISOBIOSImage(uuid), o.CacheDir, filepath.Join(stage, BIOSImageFile)); err != nil {
		return err
	}
	efi := filepath.Join(stage, "BOOTX64.EFI")
	if err := grub.Make(ctx, grub.ISOEFIImage(uuid), o.CacheDir, efi); err != nil {
		return err
	}
	b, err := os.ReadFile(efi)
	if err != nil {
		return err
	}
	if err := os.Remove(efi); err != nil {
		return err
	}
	// The file, its two folders, and room for the boot sector, the FATs and
	// the root directory, in 32 KiB steps.
	size := (int64(len(b)) + 64<<10 + 32<<10 - 1) / (32 << 10) * (32 << 10)
	return disk.MakeFAT(ctx, filepath.Join(stage, EFIImageFile), size, 12, "EFIBOOT",
		[]disk.FATFile{{Path: disk.EFIBootFile, Data: b}})
}

// populate lays out the ISO tree in dir.
func populate(ctx context.Context, dir string, p *payload.Payload, o Options) error {
	cmdline := strings.TrimSpace(p.Cmdline + " " + o.ExtraCmdline)
	cfg, err := grub.ISOConfig(grub.ISOOptions{Cmdline: cmdline, Timeout: o.Timeout})
	if err != nil {
		return err
	}
	for _, d := range []string{"boot/grub", "ros"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, grub.ISOGrubCfg), []byte(cfg), 0o644); err != nil {
		return err
	}
	if _, err := disk.WriteKit(ctx, filepath.Join(dir, KitDir), disk.KitOptions{CacheDir: o.CacheDir}); err != nil {
		return err
	}
	return linkOrCopy(p.Path, filepath.Join(dir, grub.ISORootfs))
}

// linkOrCopy hard-links src to dst, copying when they are on different
// filesystems.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(string(bytes.TrimSpace(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
