package bootenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// testImage writes a small ros disk image.
func testImage(t *testing.T) (string, *disk.Layout) {
	t.Helper()
	boottest.NeedTools(t, "grub-mkimage", "mkfs.ext4", "mkfs.fat", "mcopy", "mksquashfs")
	p := boottest.Squash(t, "gzip", map[string][]byte{"boot/kernel": []byte("k"), "boot/initrd": []byte("i"), "boot/cmdline": []byte("console=ttyS0\n")})
	img := filepath.Join(t.TempDir(), "disk.img")
	l, err := disk.Write(context.Background(), disk.Options{Payload: p, Version: "v1", Out: img, SlotSize: 8 * disk.MiB, StateSize: 8 * disk.MiB, EFISize: disk.MinEFISize})
	if err != nil {
		t.Fatalf("disk.Write() = %v", err)
	}
	return img, l
}

func TestImageStore(t *testing.T) {
	img, layout := testImage(t)
	s := &ImageStore{Path: img}
	env, err := s.Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if r := s.Report(); r.Copy != Primary || !r.Verified {
		t.Errorf("Load() of a new disk: %v, want the verified primary", r)
	}
	if a := grub.ReadSlot(env, "A"); a.State != grub.SlotGood || a.Version != "v1" {
		t.Errorf("slot A of a new disk = %+v, want good v1", a)
	}
	if b := grub.ReadSlot(env, "B"); b.State != grub.SlotEmpty {
		t.Errorf("slot B of a new disk = %+v, want empty", b)
	}

	if err := grub.BeginWrite(env, "B", "v2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(env); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	for _, file := range []string{disk.GrubEnvFile, disk.GrubEnvBackupFile} {
		e, err := disk.ReadEnvFile(img, file)
		if err != nil || grub.CheckSeal(e) != nil || grub.ReadSlot(e, "B").State != grub.SlotWriting {
			t.Errorf("%s after Save = %v, %v", file, e, err)
		}
	}

	// A destroyed primary: the backup is used.
	if err := disk.WriteEnvBlock(img, disk.GrubEnvFile, make([]byte, grubenv.Size)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || s.Report().Copy != Backup || !reflect.DeepEqual(got.Vars(), env.Vars()) {
		t.Errorf("Load() with a zeroed primary = %v (%v), want the backup's %q", err, s.Report(), env.Vars())
	}

	// A torn primary: the backup, with the new state.
	if err := grub.TryNext(got, "B", "console=ttyS0 b", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTorn(got, 100); err != nil {
		t.Fatal(err)
	}
	again, err := s.Load()
	if err != nil || s.Report().Copy != Backup || !reflect.DeepEqual(again.Vars(), got.Vars()) {
		t.Errorf("Load() with a torn primary = %v (%v), want the backup's %q", err, s.Report(), got.Vars())
	}

	// A disk without the backup file gets one, and the FAT stays clean.
	boottest.NeedTools(t, "mdel", "fsck.vfat")
	esp := extractESP(t, img, layout)
	if out, err := exec.Command("mdel", "-i", esp, "::"+disk.GrubEnvBackupFile).CombinedOutput(); err != nil {
		t.Fatalf("mdel: %v %s", err, out)
	}
	putESP(t, img, layout, esp)
	if err := s.Save(again); err != nil {
		t.Fatalf("Save() without a backup file = %v", err)
	}
	if _, err := s.Load(); err != nil || s.Report().Copy != Primary || !s.Report().Verified {
		t.Errorf("Load() = %v (%v), want the verified primary", err, s.Report())
	}
	esp = extractESP(t, img, layout)
	if out, err := exec.Command("fsck.vfat", "-n", esp).CombinedOutput(); err != nil {
		t.Errorf("fsck.vfat -n after creating the backup: %v\n%s", err, out)
	}
}

func extractESP(t *testing.T, img string, l *disk.Layout) string {
	t.Helper()
	p, err := l.Find(disk.LabelEFI)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, p.Size)
	if _, err := f.ReadAt(b, p.Start); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "esp.img")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func putESP(t *testing.T, img string, l *disk.Layout, esp string) {
	t.Helper()
	p, _ := l.Find(disk.LabelEFI)
	b, err := os.ReadFile(esp)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, p.Start); err != nil {
		t.Fatal(err)
	}
}
