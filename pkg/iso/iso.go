// Package iso writes the ros live ISO: a hybrid image (El Torito BIOS and
// UEFI for CDs, MBR/GPT for USB sticks) built by Debian's grub-mkrescue and
// xorriso. It holds the payload at /ros/rootfs.squashfs (GRUB reads the
// kernel and initrd from inside it, through a loopback), grub.cfg from
// pkg/grub, and the install kit (pkg/disk.WriteKit) at /ros/install, which
// `ros install` lays a disk out from; the volume label is ROS_LIVE.
//
// grub-mkrescue adds an HFS+ partition (for Macs) that carries the same
// label and files, so grub.cfg finds the payload by file and keeps the
// device GRUB booted from when it holds it.
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

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/payload"
	"github.com/ros-os/ros/pkg/grub"
)

// Options describe the ISO to write.
type Options struct {
	Payload string // payload squashfs (gzip or xz)
	Out     string // ISO to write (replaced atomically)
	Timeout int    // GRUB menu timeout in seconds; default 3
	// ExtraCmdline is appended to the payload's command line.
	ExtraCmdline string
	CacheDir     string // GRUB image cache for the install kit; default $ROS_CACHE or ~/.cache/ros
}

// KitDir is where the ISO holds the install kit.
const KitDir = "/ros/install"

// Modules installed on the ISO for grub.cfg (grub-mkrescue adds the
// platform-specific ones it needs itself).
var Modules = []string{
	"part_gpt", "part_msdos", "fat", "ext2", "squash4", "iso9660",
	"normal", "linux", "loadenv", "test", "search", "search_label",
	"search_fs_uuid", "search_fs_file", "echo", "configfile", "gzio",
	"xzio", "loopback", "serial", "terminal", "reboot", "regexp", "sleep", "halt",
	"all_video",
	// Every partition map GRUB's partmap.lst names: grub-mkrescue's early
	// config probes each disk before grub.cfg runs, and a missing one
	// prints an error on the console.
	"part_acorn", "part_amiga", "part_apple", "part_bsd", "part_dfly", "part_dvh",
	"part_plan", "part_sun", "part_sunpc",
}

// Write writes the live ISO described by o.
func Write(ctx context.Context, o Options) error {
	if o.Payload == "" || o.Out == "" {
		return fmt.Errorf("write iso: payload and output are required")
	}
	for _, t := range []string{"grub-mkrescue", "xorriso", "mformat"} {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("write iso %s: needs %s (grub-common, xorriso, mtools): %w", o.Out, t, err)
		}
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

	tmp := o.Out + ".tmp"
	os.Remove(tmp)
	args := []string{
		"-o", tmp,
		"--compress=xz", "--fonts=", "--locales=", "--themes=",
		"--install-modules=" + strings.Join(Modules, " "),
		stage,
		"--", "-volid", grub.ISOLabel,
	}
	cmd, err := mkrescue(ctx, o.CacheDir, args)
	if err != nil {
		return fmt.Errorf("write iso %s: %w", o.Out, err)
	}
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write iso %s: grub-mkrescue %s: %w: %s", o.Out, strings.Join(args, " "), err, lastLines(out, 10))
	}
	if err := os.Rename(tmp, o.Out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write iso %s: %w", o.Out, err)
	}
	return nil
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

// mkrescue returns the grub-mkrescue command for args. grub-mkrescue reads
// each platform's modules from /usr/lib/grub/<platform> and has no option
// to point one platform elsewhere, so when UEFI uses other modules than
// the host's (grub.EFIModulesSuite), it runs in a private mount namespace
// where those are bind-mounted over the host's x86_64-efi directory.
func mkrescue(ctx context.Context, cacheDir string, args []string) (*exec.Cmd, error) {
	if cacheDir == "" {
		d, err := grub.DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		cacheDir = d
	}
	efi, err := grub.ModuleDirFor(ctx, "x86_64-efi", cacheDir)
	if err != nil {
		return nil, err
	}
	host := grub.ModuleDir("x86_64-efi")
	if efi == host {
		return exec.CommandContext(ctx, "grub-mkrescue", args...), nil
	}
	if _, err := os.Stat(host); err != nil {
		return nil, fmt.Errorf("UEFI boot needs %s to exist (apt-get install grub-efi-amd64-bin): %w", host, err)
	}
	ns := []string{"--mount", "--propagation", "private"}
	if os.Geteuid() != 0 {
		ns = append(ns, "--map-root-user")
	}
	script := `mount --bind "$1" "$2" && shift 2 && exec grub-mkrescue "$@"`
	return exec.CommandContext(ctx, "unshare", append(append(ns, "sh", "-c", script, "sh", efi, host), args...)...), nil
}
