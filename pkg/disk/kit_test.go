package disk

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grubenv"
)

func needKitTools(t *testing.T) {
	t.Helper()
	needDiskTools(t)
	boottest.NeedTools(t, "mkfs.fat", "mcopy", "mdir", "fsck.vfat", "e2fsck")
}

// gunzip returns the uncompressed contents of a kit image.
func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteKit(t *testing.T) {
	needKitTools(t)
	dir := filepath.Join(t.TempDir(), "kit")
	start := time.Now()
	k, err := WriteKit(context.Background(), dir, KitOptions{})
	if err != nil {
		t.Fatalf("WriteKit() = %v", err)
	}
	t.Logf("kit written in %v: %d bytes", time.Since(start).Round(time.Millisecond), k.Size())
	for _, f := range k.Files {
		t.Logf("  %-14s %8d bytes (image %d)", f.Name, f.Size, f.ImageSize)
	}
	got, err := ReadKit(dir)
	if err != nil {
		t.Fatalf("ReadKit() = %v", err)
	}
	if got.EFISize != DefaultEFISize || got.StateSize != DefaultKitStateSize || len(got.Files) != 4 {
		t.Errorf("ReadKit() = %+v, want EFI %d, state %d, 4 files", got, DefaultEFISize, DefaultKitStateSize)
	}
	if k.Size() > 4<<20 {
		t.Errorf("kit is %d bytes, want it under 4 MiB", k.Size())
	}

	esp := gunzip(t, got.Path(KitESP))
	if int64(len(esp)) != got.EFISize {
		t.Fatalf("ESP image is %d bytes, want %d", len(esp), got.EFISize)
	}
	for _, name := range got.EnvFiles() {
		off := got.EnvOffsets[name]
		env, err := grubenv.Parse(esp[off : off+grubenv.Size])
		if err != nil {
			t.Fatalf("grubenv block of %s at %d: %v", name, off, err)
		}
		if v, _ := env.Get("ros_kit_placeholder"); v != name {
			t.Errorf("block at EnvOffsets[%s] is the placeholder of %q", name, v)
		}
	}
	espImg := filepath.Join(t.TempDir(), "esp.img")
	if err := os.WriteFile(espImg, esp, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("fsck.vfat", "-n", espImg).CombinedOutput(); err != nil {
		t.Errorf("fsck.vfat -n ESP: %v\n%s", err, b)
	}
	b, err := exec.Command("mdir", "-i", espImg, "-b", "::/EFI/BOOT").CombinedOutput()
	if err != nil {
		t.Fatalf("mdir: %v\n%s", err, b)
	}
	for _, want := range []string{"BOOTX64.EFI", "grub.cfg", "grubenv", "grubenv.bak"} {
		if !strings.Contains(string(b), "/EFI/BOOT/"+want+"\n") {
			t.Errorf("ESP lacks EFI/BOOT/%s:\n%s", want, b)
		}
	}

	state := gunzip(t, got.Path(KitState))
	stateImg := filepath.Join(t.TempDir(), "state.ext4")
	if err := os.WriteFile(stateImg, state, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("e2fsck", "-fn", stateImg).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn state template: %v\n%s", err, b)
	}
	if _, err := exec.LookPath("dumpe2fs"); err == nil {
		b, err := exec.Command("dumpe2fs", "-h", stateImg).CombinedOutput()
		if err != nil {
			t.Fatalf("dumpe2fs: %v\n%s", err, b)
		}
		for _, want := range []string{"Filesystem volume name:   ROS_STATE", "Block size:               4096", "Reserved GDT blocks:      1024"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("state template lacks %q:\n%s", want, b)
			}
		}
	}
}

func TestReadKitDamaged(t *testing.T) {
	needKitTools(t)
	dir := filepath.Join(t.TempDir(), "kit")
	if _, err := WriteKit(context.Background(), dir, KitOptions{}); err != nil {
		t.Fatalf("WriteKit() = %v", err)
	}
	core := filepath.Join(dir, KitCoreImg)
	b, err := os.ReadFile(core)
	if err != nil {
		t.Fatal(err)
	}
	b[100] ^= 1
	if err := os.WriteFile(core, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKit(dir); !errors.Is(err, ErrKit) {
		t.Errorf("ReadKit(flipped core.img) = %v, want ErrKit", err)
	}
	os.Remove(filepath.Join(dir, KitState))
	if _, err := ReadKit(dir); !errors.Is(err, ErrKit) {
		t.Errorf("ReadKit(no state template) = %v, want ErrKit", err)
	}
	if _, err := ReadKit(t.TempDir()); !errors.Is(err, ErrKit) {
		t.Errorf("ReadKit(empty dir) = %v, want ErrKit", err)
	}
}
