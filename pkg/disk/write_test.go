package disk

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// smallPayload builds a payload with a fake kernel of size random bytes.
func smallPayload(t testing.TB, cmdline string, size int) string {
	t.Helper()
	big := make([]byte, size)
	rand.New(rand.NewSource(int64(size))).Read(big) // incompressible
	return boottest.Squash(t, "gzip", map[string][]byte{"boot/kernel": big, "boot/initrd": []byte("initrd"), "boot/cmdline": []byte(cmdline + "\n")})
}

func needDiskTools(t *testing.T) {
	boottest.NeedTools(t, "grub-mkimage", "mkfs.ext4", "mksquashfs")
}

func TestWriteTooLarge(t *testing.T) {
	needDiskTools(t)
	p := smallPayload(t, "console=ttyS0", 9<<20)
	_, err := Write(context.Background(), Options{Payload: p, Out: filepath.Join(t.TempDir(), "d.img"), SlotSize: 8 * MiB})
	if !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("Write(9 MiB payload, 8 MiB slot) = %v, want ErrPayloadTooLarge", err)
	}
	if !strings.Contains(err.Error(), "slot A") {
		t.Errorf("error %q does not name the slot", err)
	}
}

func TestWriteAndInspect(t *testing.T) {
	needDiskTools(t)
	ctx := context.Background()
	pa := smallPayload(t, "console=ttyS0 panic=5", 1<<20)
	pb := smallPayload(t, "console=ttyS0 quiet", 1<<20)
	out := filepath.Join(t.TempDir(), "disk.img")
	layout, err := Write(ctx, Options{Payload: pa, PayloadB: pb, Version: "v1", Out: out, SlotSize: 16 * MiB, StateSize: 32 * MiB, EFISize: 40 * MiB})
	if err != nil {
		t.Fatalf("Write() = %v", err)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Size() != layout.Size {
		t.Fatalf("image size = %v, %v; want %d", fi, err, layout.Size)
	}

	read, err := ReadLayout(out)
	if err != nil {
		t.Fatalf("ReadLayout() = %v", err)
	}
	if len(read.Partitions) != len(layout.Partitions) {
		t.Fatalf("ReadLayout() = %d partitions, want %d", len(read.Partitions), len(layout.Partitions))
	}
	for i, p := range read.Partitions {
		w := layout.Partitions[i]
		if p.Number != w.Number || p.Label != w.Label || p.Start != w.Start || p.Size != w.Size || !strings.EqualFold(p.Type, w.Type) {
			t.Errorf("ReadLayout() partition %d = %+v, want %+v", i, p, w)
		}
	}
	if p, _ := read.Find(LabelBIOS); p.Start != 2048*512 {
		t.Errorf("BIOS boot starts at %d, want LBA 2048", p.Start)
	}

	env, err := ReadEnv(out)
	if err != nil {
		t.Fatalf("ReadEnv() = %v", err)
	}
	for name, want := range map[string]string{
		"ros_good": "A", "ros_try": "", "ros_cmdline_A": "console=ttyS0 panic=5", "ros_cmdline_B": "console=ttyS0 quiet",
		"ros_state_A": "good", "ros_version_A": "v1", "ros_state_B": "good",
	} {
		if got, ok := env.Get(name); !ok || got != want {
			t.Errorf("grubenv %s = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := env.Get("ros_version_B"); ok {
		t.Errorf("grubenv sets ros_version_B, want it unset (no VersionB)")
	}
	if err := grub.CheckSeal(env); err != nil {
		t.Errorf("grubenv seal: %v", err)
	}
	primary, err1 := ReadEnvBlock(out, GrubEnvFile)
	backup, err2 := ReadEnvBlock(out, GrubEnvBackupFile)
	if err1 != nil || err2 != nil || !bytes.Equal(primary, backup) {
		t.Errorf("grubenv.bak differs from grubenv (%v, %v):\n%q\n%q", err1, err2, backup, primary)
	}
	if err := env.Set("ros_try", "B"); err != nil {
		t.Fatal(err)
	}
	if err := WriteEnv(out, env); err != nil {
		t.Fatalf("WriteEnv() = %v", err)
	}
	if env2, err := ReadEnv(out); err != nil {
		t.Fatalf("ReadEnv() after WriteEnv = %v", err)
	} else if v, _ := env2.Get("ros_try"); v != "B" {
		t.Errorf("ros_try after WriteEnv = %q, want B", v)
	}
	if bak, err := ReadEnvFile(out, GrubEnvBackupFile); err != nil || grub.CheckSeal(bak) != nil {
		t.Errorf("backup after WriteEnv = %v, seal %v", err, grub.CheckSeal(bak))
	} else if v, _ := bak.Get("ros_try"); v != "B" {
		t.Errorf("ros_try in the backup after WriteEnv = %q, want B", v)
	}

	t.Run("sgdisk", func(t *testing.T) {
		boottest.NeedTools(t, "sgdisk")
		b, err := exec.Command("sgdisk", "-v", "-p", out).CombinedOutput()
		if err != nil {
			t.Fatalf("sgdisk -p: %v\n%s", err, b)
		}
		s := string(b)
		if !strings.Contains(s, "No problems found") {
			t.Errorf("sgdisk -v found problems:\n%s", s)
		}
		for _, want := range []string{
			"   1            2048            4095   1024.0 KiB  EF02  BIOS boot",
			"   2            4096           86015   40.0 MiB    EF00  ROS_EFI",
			"   3           86016          118783   16.0 MiB    8300  ROS_A",
			"   4          118784          151551   16.0 MiB    8300  ROS_B",
			"   5          151552          217087   32.0 MiB    8300  ROS_STATE",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("sgdisk -p lacks %q:\n%s", want, s)
			}
		}
	})
	t.Run("fsck.vfat", func(t *testing.T) {
		boottest.NeedTools(t, "fsck.vfat", "mdir")
		esp := extract(t, out, layout, LabelEFI)
		if b, err := exec.Command("fsck.vfat", "-n", esp).CombinedOutput(); err != nil {
			t.Errorf("fsck.vfat -n: %v\n%s", err, b)
		}
		b, err := exec.Command("mdir", "-i", esp, "-b", "::/EFI/BOOT").CombinedOutput()
		if err != nil {
			t.Fatalf("mdir: %v\n%s", err, b)
		}
		for _, want := range []string{"BOOTX64.EFI", "grub.cfg", "/grubenv\n", "/grubenv.bak\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("ESP /EFI/BOOT lacks %s: %s", want, b)
			}
		}
		b, _ = exec.Command("dosfslabel", esp).CombinedOutput()
		if strings.TrimSpace(string(b)) != LabelEFI {
			t.Errorf("ESP label = %q, want %s", b, LabelEFI)
		}
	})
	t.Run("grub-editenv", func(t *testing.T) {
		boottest.NeedTools(t, "grub-editenv", "mcopy")
		esp := extract(t, out, layout, LabelEFI)
		env := filepath.Join(t.TempDir(), "grubenv")
		if b, err := exec.Command("mcopy", "-i", esp, "::/EFI/BOOT/grubenv", env).CombinedOutput(); err != nil {
			t.Fatalf("mcopy: %v\n%s", err, b)
		}
		b, err := exec.Command("grub-editenv", env, "list").CombinedOutput()
		if err != nil || !strings.Contains(string(b), "ros_try=B\n") || !strings.Contains(string(b), "ros_cmdline_A=console=ttyS0 panic=5\n") {
			t.Errorf("grub-editenv list = %q, %v", b, err)
		}
	})
	t.Run("unsquashfs", func(t *testing.T) {
		boottest.NeedTools(t, "unsquashfs")
		for _, label := range []string{LabelA, LabelB} {
			slot := extract(t, out, layout, label)
			b, err := exec.Command("unsquashfs", "-l", slot).CombinedOutput()
			if err != nil || !strings.Contains(string(b), "squashfs-root/boot/kernel") {
				t.Errorf("unsquashfs -l %s = %v\n%s", label, err, b)
			}
		}
	})
	t.Run("e2fsck", func(t *testing.T) {
		boottest.NeedTools(t, "e2fsck", "e2label")
		state := extract(t, out, layout, LabelState)
		if b, err := exec.Command("e2fsck", "-n", "-f", state).CombinedOutput(); err != nil {
			t.Errorf("e2fsck -n: %v\n%s", err, b)
		}
		if b, _ := exec.Command("e2label", state).CombinedOutput(); strings.TrimSpace(string(b)) != LabelState {
			t.Errorf("state label = %q, want %s", b, LabelState)
		}
	})
	t.Run("mbr", func(t *testing.T) {
		b := make([]byte, 512)
		f, _ := os.Open(out)
		if _, err := f.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if b[510] != 0x55 || b[511] != 0xaa || b[0x1be+4] != 0xee {
			t.Errorf("MBR lost its protective partition or signature: % x", b[0x1be:])
		}
		if b[0x5c] != 0x00 || b[0x5d] != 0x08 || b[0x66] != 0x90 {
			t.Errorf("boot.img not patched: kernel sector % x, drive check % x", b[0x5c:0x64], b[0x66:0x68])
		}
	})
}

// extract copies one partition out of the image into a file.
func extract(t *testing.T, img string, l *Layout, label string) string {
	t.Helper()
	p, err := l.Find(label)
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	b := make([]byte, p.Size)
	if _, err := in.ReadAt(b, p.Start); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), label+".img")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

var _ = grubenv.Size

// BenchmarkWrite writes a disk with a 48 MiB payload (about a real ros
// payload's size).
func smallPayloadB(b *testing.B, size int) string { return smallPayload(b, "console=ttyS0", size) }

func BenchmarkWrite(b *testing.B) {
	boottest.NeedTools(b, "grub-mkimage", "mkfs.ext4", "mksquashfs")
	pay := smallPayloadB(b, 48<<20)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Write(context.Background(), Options{Payload: pay, Out: filepath.Join(dir, "d.img")}); err != nil {
			b.Fatal(err)
		}
	}
}
