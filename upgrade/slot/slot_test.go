package slot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grub"
)

// payload builds a payload squashfs with a version file and size bytes
// of incompressible data.
func payload(t *testing.T, comp, version string, size int) string {
	t.Helper()
	return boottest.Squash(t, comp, payloadFiles(version, size))
}

func payloadFiles(version string, size int) map[string][]byte {
	big := make([]byte, size)
	rand.New(rand.NewSource(int64(size))).Read(big)
	return map[string][]byte{
		"boot/kernel": big, "boot/initrd": []byte("initrd"), "boot/cmdline": []byte("console=ttyS0\n"),
		VersionFile: []byte(version + "\n"), ArchFile: []byte("amd64"),
	}
}

func testImage(t *testing.T, payloadA string) string {
	t.Helper()
	boottest.NeedTools(t, "grub-mkimage", "mkfs.ext4", "mkfs.fat", "mcopy")
	img := filepath.Join(t.TempDir(), "disk.img")
	_, err := disk.Write(context.Background(), disk.Options{Payload: payloadA, Out: img, SlotSize: 16 * disk.MiB, StateSize: 8 * disk.MiB, EFISize: disk.MinEFISize})
	if err != nil {
		t.Fatalf("disk.Write() = %v", err)
	}
	return img
}

func sha(t *testing.T, path string) (string, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), int64(len(b))
}

// outside returns the image's bytes outside [off, off+n).
func outside(t *testing.T, img string, off, n int64) []byte {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), b[:off]...), b[off+n:]...)
}

// writeByte sets the byte of file at off to v, synced to the disk.
func writeByte(t *testing.T, file string, off int64, v byte) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{v}, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestVersion(t *testing.T) {
	payloads := map[string]func() string{
		"gzip": func() string { return payload(t, "gzip", "v1.2.3", 64<<10) },
		"xz":   func() string { return payload(t, "xz", "v1.2.3", 64<<10) },
		"gzip boot, zstd root": func() string {
			return boottest.SquashSplit(t, "gzip", "zstd", payloadFiles("v1.2.3", 64<<10))
		},
	}
	for name, build := range payloads {
		t.Run(name, func(t *testing.T) {
			img := testImage(t, build())
			d, err := OpenImage(img)
			if err != nil {
				t.Fatalf("OpenImage() = %v", err)
			}
			a, _ := d.Open("A")
			if v, err := a.Version(); err != nil || v != "v1.2.3" {
				t.Errorf("slot A Version() = %q, %v; want v1.2.3", v, err)
			}
			if b, err := a.ReadFile("/" + ArchFile); err != nil || string(b) != "amd64" {
				t.Errorf("slot A ReadFile(%s) = %q, %v", ArchFile, b, err)
			}
			if _, err := a.ReadFile("etc/missing"); err == nil {
				t.Errorf("ReadFile(missing) = nil error")
			}
			b, _ := d.Open("B")
			if _, err := b.Version(); !errors.Is(err, ErrNoPayload) {
				t.Errorf("empty slot B Version() = %v, want ErrNoPayload", err)
			}
		})
	}
}

func TestWriteVerifyImage(t *testing.T) {
	ctx := context.Background()
	img := testImage(t, payload(t, "gzip", "v1", 64<<10))
	pb := payload(t, "xz", "v2", 3<<20+12345) // not a whole number of blocks
	want, n := sha(t, pb)
	d, err := OpenImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsImage() || d.ESP != "" {
		t.Fatalf("IsImage() = false or ESP = %q for an image", d.ESP)
	}
	st, closeEnv, err := d.Bootenv(ctx)
	if err != nil {
		t.Fatalf("Bootenv() = %v", err)
	}
	if env, err := st.Load(); err != nil || grub.ReadSlot(env, "A").State != grub.SlotGood {
		t.Errorf("Bootenv().Load() = %v, %v; want slot A good", env, err)
	}
	if err := closeEnv(); err != nil {
		t.Errorf("closing Bootenv() = %v", err)
	}
	s, err := d.Open("B")
	if err != nil {
		t.Fatal(err)
	}
	part, _ := d.Layout.Slot("B")
	if s.Offset != part.Start || s.Size() != part.Size || s.IsDevice() {
		t.Fatalf("Open(B) = %+v, want offset %d size %d", s, part.Start, part.Size)
	}
	before := outside(t, img, s.Offset, n)

	f, _ := os.Open(pb)
	var reports []int64
	err = s.Write(ctx, f, n, func(done int64) { reports = append(reports, done) })
	f.Close()
	if err != nil {
		t.Fatalf("Write() = %v", err)
	}
	if len(reports) != int((n+BlockSize-1)/BlockSize) || reports[len(reports)-1] != n {
		t.Errorf("progress = %v, want one report per MiB ending at %d", reports, n)
	}
	if !bytes.Equal(before, outside(t, img, s.Offset, n)) {
		t.Errorf("Write() changed bytes outside the payload's range in slot B")
	}
	if err := s.Verify(ctx, n, want); err != nil {
		t.Errorf("Verify() = %v", err)
	}
	if got, err := s.Hash(ctx, n); err != nil || got != want {
		t.Errorf("Hash() = %s, %v; want %s", got, err, want)
	}
	if v, err := s.Version(); err != nil || v != "v2" {
		t.Errorf("Version() after Write = %q, %v; want v2", v, err)
	}

	// A flipped byte on the disk is found.
	writeByte(t, img, s.Offset+n/2, 0x55)
	if err := s.Verify(ctx, n, want); !errors.Is(err, ErrHash) {
		t.Errorf("Verify() after a flipped byte = %v, want ErrHash", err)
	}

	// Refusals leave the slot as it was.
	slotBefore := sliceOf(t, img, s.Offset, s.Size())
	big := bytes.NewReader(make([]byte, 10))
	if err := s.Write(ctx, big, s.Size()+1, nil); !errors.Is(err, ErrTooBig) {
		t.Errorf("Write(size+1) = %v, want ErrTooBig", err)
	}
	if err := s.Write(ctx, bytes.NewReader(nil), 100, nil); !errors.Is(err, ErrShort) {
		t.Errorf("Write(empty reader, 100) = %v, want ErrShort", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Write(cctx, bytes.NewReader(make([]byte, 100)), 100, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Write(cancelled) = %v, want context.Canceled", err)
	}
	if !bytes.Equal(slotBefore, sliceOf(t, img, s.Offset, s.Size())) {
		t.Errorf("a refused Write changed the slot")
	}
	if _, err := s.Hash(ctx, s.Size()+1); err == nil {
		t.Errorf("Hash(size+1) = nil error")
	}
}

func sliceOf(t *testing.T, img string, off, n int64) []byte {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}
