package grub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Image describes one grub-mkimage output.
type Image struct {
	Format  string   // grub-mkimage -O: "x86_64-efi" or "i386-pc"
	Prefix  string   // -p: where normal mode finds grub.cfg and grubenv
	Modules []string // modules built into the image
	Config  string   // optional early config embedded with -c
}

// Modules both firmwares' images need for the ros grub.cfg files.
var commonModules = []string{
	"part_gpt", "part_msdos", "fat", "ext2", "squash4", "iso9660",
	"normal", "linux", "loadenv", "test", "search", "search_label",
	"search_fs_uuid", "search_fs_file", "echo", "configfile", "gzio",
	"xzio", "serial", "terminal", "reboot", "regexp", "sleep", "halt",
}

// ESPDir is where the disk's GRUB files live on the ESP; it is the prefix
// of both images, so one grub.cfg and one grubenv serve BIOS and UEFI.
const ESPDir = "/EFI/BOOT"

// EFIImage is BOOTX64.EFI for the disk: prefix /EFI/BOOT on the partition
// the firmware loaded it from.
func EFIImage() Image {
	return Image{
		Format:  "x86_64-efi",
		Prefix:  ESPDir,
		Modules: append(append([]string(nil), commonModules...), "all_video", "efi_gop"),
	}
}

// BIOSImage is core.img for the disk's BIOS boot partition. Its prefix
// "(,gptN)/EFI/BOOT" names partition espPartition on the drive the BIOS
// booted from, so BIOS GRUB reads the same grub.cfg and grubenv as UEFI.
func BIOSImage(espPartition int) Image {
	return Image{
		Format:  "i386-pc",
		Prefix:  fmt.Sprintf("(,gpt%d)%s", espPartition, ESPDir),
		Modules: append([]string{"biosdisk"}, commonModules...),
	}
}

// Key returns the cache key: a hash of the image description and the
// version of grub-mkimage and of the modules.
func (img Image) Key(version string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", version, img.Format, img.Prefix, strings.Join(img.Modules, " "), img.Config)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ModuleDir is where Debian installs the host's GRUB modules for format.
func ModuleDir(format string) string { return filepath.Join("/usr/lib/grub", format) }

// Build runs grub-mkimage for img, caching the result under
// <cacheDir>/grub/<key>/<format>.img, and returns the image's path.
func Build(ctx context.Context, img Image, cacheDir string) (string, error) {
	modules, err := ModuleDirFor(ctx, img.Format, cacheDir)
	if err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
	}
	if _, err := os.Stat(modules); err != nil {
		return "", fmt.Errorf("grub-mkimage %s: GRUB modules missing (install grub-efi-amd64-bin / grub-pc-bin): %w", img.Format, err)
	}
	modID, err := modulesID(modules)
	if err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
	}
	ver, err := exec.CommandContext(ctx, "grub-mkimage", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("grub-mkimage --version: %w", err)
	}
	dir := filepath.Join(cacheDir, "grub", img.Key(strings.TrimSpace(string(ver))+" "+modID))
	out := filepath.Join(dir, img.Format+".img")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := []string{"-O", img.Format, "-d", modules, "-o", tmp.Name(), "-p", img.Prefix}
	if img.Config != "" {
		cfg := tmp.Name() + ".cfg"
		if err := os.WriteFile(cfg, []byte(img.Config), 0o644); err != nil {
			return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
		}
		defer os.Remove(cfg)
		args = append(args, "-c", cfg)
	}
	args = append(args, img.Modules...)
	if b, err := exec.CommandContext(ctx, "grub-mkimage", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(b)))
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
	}
	return out, nil
}

// BootImg is the i386-pc MBR boot sector image.
func BootImg() string { return filepath.Join(ModuleDir("i386-pc"), "boot.img") }

// DefaultCacheDir returns $ROS_CACHE or ~/.cache/ros.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("ROS_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("ros cache dir: %w", err)
	}
	return filepath.Join(home, ".cache", "ros"), nil
}
