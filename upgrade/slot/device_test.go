package slot

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/disk/boottest"
)

// loopSlot attaches a new 32 MiB file to a loop device and returns it as
// a device slot with the backing file.
func loopSlot(t *testing.T) (*Slot, string) {
	t.Helper()
	back := filepath.Join(t.TempDir(), "slot.img")
	if err := os.WriteFile(back, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(back, 32<<20); err != nil {
		t.Fatal(err)
	}
	dev := boottest.LoopDevice(t, back)
	fi, err := os.Stat(dev)
	if err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is not a device: %v", dev, err)
	}
	return &Slot{Name: "B", Path: dev, size: 32 << 20, block: true}, back
}

// TestDevice writes and reads back a slot on a real block device, and
// shows that the read-back bypasses the page cache: a byte changed in the
// backing file behind the device's cache is seen.
func TestDevice(t *testing.T) {
	s, back := loopSlot(t)
	ctx := context.Background()
	pb := payload(t, "gzip", "v2", 5<<20+777)
	want, n := sha(t, pb)
	f, _ := os.Open(pb)
	err := s.Write(ctx, f, n, nil)
	f.Close()
	if err != nil {
		t.Fatalf("Write() = %v", err)
	}
	if err := s.Verify(ctx, n, want); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if v, err := s.Version(); err != nil || v != "v2" {
		t.Errorf("Version() = %q, %v", v, err)
	}

	// Fill the device's page cache, then change the disk underneath it.
	cached := make([]byte, n)
	dev, err := os.Open(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.ReadAt(cached, 0); err != nil {
		t.Fatal(err)
	}
	orig := cached[n/2]
	writeByte(t, back, n/2, orig^0xff)
	again := make([]byte, 1)
	if _, err := dev.ReadAt(again, n/2); err != nil {
		t.Fatal(err)
	}
	dev.Close()
	t.Logf("a buffered read of the device after the change sees %#x (was %#x)", again[0], orig)

	for _, direct := range []bool{true, false} {
		s.noDirect = !direct
		if err := s.Verify(ctx, n, want); !errors.Is(err, ErrHash) {
			t.Errorf("Verify(direct %v) after changing the disk = %v, want ErrHash (read from the cache?)", direct, err)
		}
	}
	s.noDirect = false

	// Restore the byte; the device is right again.
	writeByte(t, back, n/2, orig)
	if err := s.Verify(ctx, n, want); err != nil {
		t.Errorf("Verify() after restoring = %v", err)
	}

	// A mounted slot (the running one) cannot be written: O_EXCL.
	if !haveFS("squashfs") {
		t.Skip("needs squashfs in the kernel")
	}
	mnt := t.TempDir()
	if err := unix.Mount(s.Path, mnt, "squashfs", unix.MS_RDONLY, ""); err != nil {
		t.Skipf("mount squashfs: %v", err)
	}
	defer func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	}()
	if b, err := os.ReadFile(filepath.Join(mnt, VersionFile)); err != nil || !bytes.HasPrefix(b, []byte("v2")) {
		t.Errorf("mounted slot's version = %q, %v", b, err)
	}
	if err := s.Write(ctx, bytes.NewReader(make([]byte, 4096)), 4096, nil); !errors.Is(err, unix.EBUSY) {
		t.Errorf("Write() to a mounted slot = %v, want EBUSY", err)
	}
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
