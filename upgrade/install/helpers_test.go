package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/boottest"
)

var kitOnce struct {
	sync.Once
	dir string
	err error
}

// TestMain removes the shared kit.
func TestMain(m *testing.M) {
	code := m.Run()
	if kitOnce.dir != "" {
		os.RemoveAll(kitOnce.dir)
	}
	os.Exit(code)
}

// testKit returns a kit directory shared by the tests (built once), or
// skips when the host tools to build one are missing.
func testKit(t testing.TB) string {
	t.Helper()
	boottest.NeedTools(t, "grub-mkimage", "mkfs.fat", "mcopy", "mmd", "mkfs.ext4", "mksquashfs")
	kitOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ros-install-kit-")
		if err != nil {
			kitOnce.err = err
			return
		}
		kitOnce.dir = dir
		_, kitOnce.err = disk.WriteKit(context.Background(), filepath.Join(dir, "kit"), disk.KitOptions{})
	})
	if kitOnce.err != nil {
		t.Fatalf("WriteKit() = %v", kitOnce.err)
	}
	return filepath.Join(kitOnce.dir, "kit")
}

// copyKit returns a private copy of the shared kit, for tests that damage it.
func copyKit(t *testing.T) string {
	t.Helper()
	src := testKit(t)
	dst := filepath.Join(t.TempDir(), "kit")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// fakePayload writes a payload as ros build does (a gzip boot squashfs,
// then a zstd root) with placeholder kernel and initrd, the version, arch
// "amd64" unless extra overrides it, and extra files.
func fakePayload(t *testing.T, cmdline, version string, extra map[string][]byte) string {
	t.Helper()
	files := map[string][]byte{
		"boot/kernel":         []byte("KERNEL"),
		"boot/initrd":         []byte("INITRD"),
		"boot/cmdline":        []byte(cmdline + "\n"),
		"usr/lib/ros/version": []byte(version + "\n"),
		"usr/lib/ros/arch":    []byte("amd64\n"),
	}
	for k, v := range extra {
		files[k] = v
	}
	return boottest.SquashSplit(t, "gzip", "zstd", files)
}

// image creates a sparse disk image of size bytes.
func image(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// hashFile returns a sha256 of a (sparse) file: its size and each data
// extent's offset and bytes, skipping holes, so a large sparse image is
// quick to fingerprint.
func hashFile(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "size %d\n", fi.Size())
	for off := int64(0); off < fi.Size(); {
		start, err := f.Seek(off, unix.SEEK_DATA)
		if err != nil { // ENXIO: only a hole is left
			break
		}
		end, err := f.Seek(start, unix.SEEK_HOLE)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "data %d %d\n", start, end)
		if _, err := io.Copy(h, io.NewSectionReader(f, start, end-start)); err != nil {
			t.Fatal(err)
		}
		off = end
	}
	return hex.EncodeToString(h.Sum(nil))
}

// extract copies n bytes of file at off into a new file and returns its
// path.
func extract(t *testing.T, file string, off, n int64) string {
	t.Helper()
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), "part.img")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, io.NewSectionReader(in, off, n)); err != nil {
		t.Fatal(err)
	}
	return out
}

// tool runs a host tool (skipping when it is missing) and returns its
// combined output; failure fails the test.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("needs %s", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return string(b)
}

// progressLog collects Progress messages and logs them.
func progressLog(t *testing.T) (func(string), *[]string) {
	var msgs []string
	return func(s string) {
		msgs = append(msgs, s)
		t.Log("progress: " + s)
	}, &msgs
}
