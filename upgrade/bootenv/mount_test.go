package bootenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grub"
)

// loopDevice attaches a new filesystem image made by mkfs to a loop device.
func loopDevice(t *testing.T, mkfs ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount, losetup)")
	}
	boottest.NeedTools(t, mkfs[0])
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 40<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs[0], append(mkfs[1:], img)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", mkfs[0], err, out)
	}
	return boottest.LoopDevice(t, img)
}

func haveFS(name string) bool {
	b, _ := os.ReadFile("/proc/filesystems")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == name {
			return true
		}
	}
	return false
}

// TestMount checks mount and unmount on ext4 (always in the kernel here);
// TestMountESP does the same on vfat where the kernel has it.
func TestMount(t *testing.T) {
	dev := loopDevice(t, "mkfs.ext4", "-q")
	dir := t.TempDir()
	ctx := context.Background()
	unmount, err := mount(ctx, dev, dir, "ext4")
	if err != nil {
		t.Fatalf("mount(%s) = %v", dev, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if !strings.Contains(string(mounts), " "+dir+" ") {
		t.Errorf("%s not in mountinfo after mount", dir)
	}
	if err := unmount(); err != nil {
		t.Fatalf("unmount() = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Errorf("file still visible after unmount")
	}
	unmount, err = mount(ctx, dev, dir, "ext4")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := unmount(); err != nil {
			t.Errorf("unmount() = %v", err)
		}
	}()
	if b, err := os.ReadFile(filepath.Join(dir, "x")); err != nil || string(b) != "1" {
		t.Errorf("after remount: %q, %v", b, err)
	}
	if _, err := mount(ctx, "/dev/ros-no-such-device", t.TempDir(), "ext4"); err == nil {
		t.Errorf("mount(missing device) = nil error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := mount(cctx, dev, t.TempDir(), "ext4"); err == nil {
		t.Errorf("mount(cancelled ctx) = nil error")
	}
}

func TestMountESP(t *testing.T) {
	if !haveFS("vfat") {
		t.Skip("needs vfat in the kernel (/proc/filesystems)")
	}
	dev := loopDevice(t, "mkfs.fat", "-F", "32")
	dir, unmount, err := MountESP(context.Background(), dev, filepath.Join(t.TempDir(), "esp"))
	if err != nil {
		t.Fatalf("MountESP() = %v", err)
	}
	defer func() {
		if err := unmount(); err != nil {
			t.Errorf("unmount() = %v", err)
		}
	}()
	if err := os.MkdirAll(filepath.Join(dir, ESPDir), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &DirStore{Dir: filepath.Join(dir, ESPDir)}
	_, env, _, _ := states(t)
	if err := s.Save(env); err != nil {
		t.Fatalf("Save() on vfat = %v", err)
	}
	if _, err := s.Load(); err != nil || !s.Report().Verified {
		t.Errorf("Load() on vfat = %v, %v", err, s.Report())
	}
	if err := grub.CheckSeal(env); err != nil {
		t.Error(err)
	}
}
