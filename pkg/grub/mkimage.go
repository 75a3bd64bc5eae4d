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
	Format  string   // grub-mkimage -O: "x86_64-efi", "i386-pc" or "i386-pc-eltorito"
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

// ISOPrefix is where the live ISO's GRUB finds grub.cfg.
const ISOPrefix = "/boot/grub"

// isoModules are built into both of the ISO's images, so the ISO carries
// no module folders: grub.cfg's insmod lines find them loaded.
var isoModules = append(append([]string(nil), commonModules...), "loopback")

// ISOEFIImage is the live ISO's BOOTX64.EFI and ISOBIOSImage its El Torito
// BIOS image. Both start by finding the ISO's filesystem by volumeUUID (its
// modification date as GRUB prints it, YYYY-MM-DD-hh-mm-ss-cc), as
// grub-mkrescue's images do: the firmware's boot device may be the EFI
// image inside the ISO or a partition of the USB stick.
func ISOEFIImage(volumeUUID string) Image {
	return Image{
		Format:  "x86_64-efi",
		Prefix:  ISOPrefix,
		Modules: append(append([]string(nil), isoModules...), "all_video", "efi_gop"),
		Config:  isoEarlyConfig(volumeUUID),
	}
}

// ISOBIOSImage: see ISOEFIImage.
func ISOBIOSImage(volumeUUID string) Image {
	return Image{
		Format:  "i386-pc-eltorito",
		Prefix:  ISOPrefix,
		Modules: append([]string{"biosdisk"}, isoModules...),
		Config:  isoEarlyConfig(volumeUUID),
	}
}

func isoEarlyConfig(volumeUUID string) string {
	return fmt.Sprintf("search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)%s\n", volumeUUID, ISOPrefix)
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

// Platform is the GRUB platform whose modules img is made of: Format
// without an image variant's suffix ("i386-pc-eltorito" is i386-pc).
func (img Image) Platform() string { return strings.TrimSuffix(img.Format, "-eltorito") }

// Build runs grub-mkimage for img, caching the result under
// <cacheDir>/grub/<key>/<format>.img, and returns the image's path.
func Build(ctx context.Context, img Image, cacheDir string) (string, error) {
	modules, err := moduleDir(ctx, img, cacheDir)
	if err != nil {
		return "", err
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
	if err := mkimage(ctx, img, modules, tmp.Name()); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
	}
	return out, nil
}

// Make runs grub-mkimage for img into out, without caching: for images
// that embed something unique to one output, such as an ISO's volume UUID.
func Make(ctx context.Context, img Image, cacheDir, out string) error {
	modules, err := moduleDir(ctx, img, cacheDir)
	if err != nil {
		return err
	}
	return mkimage(ctx, img, modules, out)
}

func moduleDir(ctx context.Context, img Image, cacheDir string) (string, error) {
	modules, err := ModuleDirFor(ctx, img.Platform(), cacheDir)
	if err != nil {
		return "", fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
	}
	if _, err := os.Stat(modules); err != nil {
		return "", fmt.Errorf("grub-mkimage %s: GRUB modules missing (install grub-efi-amd64-bin / grub-pc-bin): %w", img.Format, err)
	}
	return modules, nil
}

func mkimage(ctx context.Context, img Image, modules, out string) error {
	args := []string{"-O", img.Format, "-d", modules, "-o", out, "-p", img.Prefix}
	if img.Config != "" {
		cfg := out + ".cfg"
		if err := os.WriteFile(cfg, []byte(img.Config), 0o644); err != nil {
			return fmt.Errorf("grub-mkimage %s: %w", img.Format, err)
		}
		defer os.Remove(cfg)
		args = append(args, "-c", cfg)
	}
	args = append(args, img.Modules...)
	if b, err := exec.CommandContext(ctx, "grub-mkimage", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("grub-mkimage %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(b)))
	}
	return nil
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
