package iso

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/qemu"
)

func needISOTools(t *testing.T) {
	boottest.NeedTools(t, "grub-mkimage", "xorriso", "mkfs.fat", "mcopy", "mksquashfs")
}

func smallPayload(t *testing.T) string {
	t.Helper()
	return boottest.Squash(t, "xz", map[string][]byte{"boot/kernel": []byte("KERNEL"), "boot/initrd": []byte("INITRD"), "boot/cmdline": []byte("console=ttyS0 panic=5\n")})
}

func xorriso(t *testing.T, args ...string) string {
	t.Helper()
	b, err := exec.Command("xorriso", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b)
}

func TestWriteAndInspect(t *testing.T) {
	needISOTools(t)
	pay := smallPayload(t)
	out := filepath.Join(t.TempDir(), "ros.iso")
	start := time.Now()
	date := time.Date(2031, 2, 3, 4, 5, 6, 70_000_000, time.UTC)
	if err := Write(context.Background(), Options{Payload: pay, Out: out, ExtraCmdline: "quiet", Date: date}); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	fi, _ := os.Stat(out)
	t.Logf("ISO written in %v, %d bytes", time.Since(start).Round(time.Millisecond), fi.Size())

	report := xorriso(t, "-indev", out, "-report_el_torito", "plain", "-report_system_area", "plain")
	for _, want := range []string{
		"Volume id    : 'ROS_LIVE'",
		"El Torito boot img :   1  BIOS  y   none",
		"El Torito boot img :   2  UEFI  y   none",
		"MBR partition table",
		"GPT partname local :   2  EFI boot partition",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("xorriso report lacks %q:\n%s", want, report)
		}
	}
	files := xorriso(t, "-indev", out, "-find", "/", "-type", "f")
	for _, dup := range []string{"'/boot/kernel'", "'/boot/initrd'"} {
		if strings.Contains(files, dup) {
			t.Errorf("ISO holds %s beside the payload that has it already", dup)
		}
	}
	for _, want := range []string{"'/ros/rootfs.squashfs'", "'/boot/grub/grub.cfg'",
		"'/ros/install/kit.json'", "'/ros/install/boot.img'", "'/ros/install/core.img'", "'/ros/install/esp.img.gz'", "'/ros/install/state.ext4.gz'"} {
		if !strings.Contains(files, want) {
			t.Errorf("ISO lacks %s:\n%s", want, files)
		}
	}
	dir := t.TempDir()
	xorriso(t, "-osirrox", "on", "-indev", out, "-extract", "/boot/grub/grub.cfg", filepath.Join(dir, "grub.cfg"),
		"-extract", "/ros/rootfs.squashfs", filepath.Join(dir, "rootfs"))
	xorriso(t, "-osirrox", "on", "-indev", out, "-extract", KitDir, filepath.Join(dir, "kit"))
	kit, err := disk.ReadKit(filepath.Join(dir, "kit"))
	if err != nil {
		t.Errorf("the ISO's install kit: ReadKit() = %v", err)
	} else {
		t.Logf("install kit on the ISO: %d bytes", kit.Size())
	}
	checkBootImages(t, out, dir, "2031-02-03-04-05-06-07")
	cfg, _ := os.ReadFile(filepath.Join(dir, "grub.cfg"))
	if !strings.Contains(string(cfg), "set ros_cmdline='console=ttyS0 panic=5 quiet'") {
		t.Errorf("ISO grub.cfg lacks the payload command line:\n%s", cfg)
	}
	if !strings.Contains(string(cfg), `loopback ros_live "/ros/rootfs.squashfs"`) || !strings.Contains(string(cfg), "linux (ros_live)/boot/kernel") {
		t.Errorf("ISO grub.cfg does not boot the kernel inside the payload:\n%s", cfg)
	}
	want, _ := os.ReadFile(pay)
	if got, _ := os.ReadFile(filepath.Join(dir, "rootfs")); string(got) != string(want) {
		t.Errorf("/ros/rootfs.squashfs differs from the payload")
	}
	if _, err := exec.LookPath("unsquashfs"); err == nil {
		if b, err := exec.Command("unsquashfs", "-l", filepath.Join(dir, "rootfs")).CombinedOutput(); err != nil || !strings.Contains(string(b), "boot/cmdline") {
			t.Errorf("unsquashfs -l rootfs.squashfs = %v\n%s", err, b)
		}
	}
}

// checkBootImages checks that the ISO's volume UUID, as blkid reads it, is
// the one both boot images search for, that the EFI image is a clean FAT
// holding BOOTX64.EFI, and that no GRUB module folders or HFS+ files came
// along.
func checkBootImages(t *testing.T, iso, dir, wantUUID string) {
	t.Helper()
	if _, err := exec.LookPath("blkid"); err == nil {
		b, err := exec.Command("blkid", "-p", "-o", "value", "-s", "UUID", iso).Output()
		if got := strings.TrimSpace(string(b)); err != nil || got != wantUUID {
			t.Errorf("blkid UUID of the ISO = %q, %v; want %q", got, err, wantUUID)
		}
	}
	efi := filepath.Join(dir, "efi.img")
	bios := filepath.Join(dir, "eltorito.img")
	xorriso(t, "-osirrox", "on", "-indev", iso, "-extract", EFIImageFile, efi, "-extract", BIOSImageFile, bios)
	if b, err := exec.Command("fsck.fat", "-n", efi).CombinedOutput(); err != nil {
		t.Errorf("fsck.fat -n efi.img: %v\n%s", err, b)
	}
	bootx64 := filepath.Join(dir, "BOOTX64.EFI")
	if b, err := exec.Command("mcopy", "-i", efi, "::"+disk.EFIBootFile, bootx64).CombinedOutput(); err != nil {
		t.Fatalf("mcopy BOOTX64.EFI out of efi.img: %v\n%s", err, b)
	}
	// The BIOS image is compressed; booting it is TestBootISO's job.
	search := "search --no-floppy --fs-uuid --set=root " + wantUUID + "\n"
	if b, err := os.ReadFile(bootx64); err != nil || !bytes.Contains(b, []byte(search)) {
		t.Errorf("BOOTX64.EFI does not search for the ISO's UUID (%q): %v", search, err)
	}
	if fi, err := os.Stat(bios); err != nil || fi.Size() == 0 {
		t.Errorf("%s: %v, empty or missing", BIOSImageFile, err)
	}
	if fi, err := os.Stat(efi); err == nil && fi.Size() > 2<<20 {
		t.Errorf("efi.img is %d bytes, want it sized to BOOTX64.EFI (under 2 MiB)", fi.Size())
	}
	files := xorriso(t, "-indev", iso, "-find", "/", "-type", "f")
	if strings.Contains(files, ".mod'") || strings.Contains(files, "'/System/") {
		t.Errorf("ISO carries GRUB module folders or HFS+ files:\n%s", files)
	}
}

func TestWriteBadPayload(t *testing.T) {
	needISOTools(t)
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("not a squashfs"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.iso")
	if err := Write(context.Background(), Options{Payload: bad, Out: out}); err == nil {
		t.Errorf("Write(not a squashfs) = nil, want an error")
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("Write(not a squashfs) left %s behind", out)
	}
}

// TestBootISO boots the ISO as a CD and as a disk (USB stick) on SeaBIOS
// and OVMF and expects the payload's initrd to run with ros.live.
func TestBootISO(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	needISOTools(t)
	boottest.NeedQEMU(t, qemu.BIOS)
	pay := boottest.Payload(t, "live", "console=ttyS0,115200 panic=5 loglevel=4", "gzip")
	out := filepath.Join(t.TempDir(), "ros.iso")
	if err := Write(context.Background(), Options{Payload: pay, Out: out, Timeout: 1}); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	for _, fw := range []qemu.Firmware{qemu.BIOS, qemu.UEFI} {
		for _, media := range []string{"cdrom", "disk"} {
			t.Run(string(fw)+"-"+media, func(t *testing.T) {
				cfg := qemu.Config{Firmware: fw, Image: out, Kind: qemu.KindISO}
				if media == "disk" {
					cfg.Kind = qemu.KindDisk // a USB stick
				}
				res := boottest.Boot(t, cfg)
				res.Expect(t, "none", "live")
				if !strings.Contains(res.Line, "args=ros.live") {
					t.Errorf("live boot marker = %q, want ros.live first", res.Line)
				}
				// GRUB autoloading a module the ISO lacks prints this and
				// can stop at "Press any key to continue".
				if i := strings.Index(res.Output, "error: file"); i >= 0 {
					t.Errorf("GRUB printed an error on the console: %.120q", res.Output[i:])
				}
				t.Logf("%s %s: marker after %v", fw, media, res.ToMarker.Round(time.Millisecond))
			})
		}
	}
}
