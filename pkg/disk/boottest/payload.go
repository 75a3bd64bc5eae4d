// Package boottest builds tiny bootable payloads for the boot-medium
// writers' tests (pkg/disk, pkg/iso) and boots them with pkg/qemu. A
// payload holds Debian's kernel (pkg/testkernel) and an initramfs whose
// /init prints a marker line and powers off.
package boottest

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk/payload/layout"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/testkernel"
)

// Marker is the prefix of the line the test initramfs prints.
const Marker = "ROS-TEST-BOOT"

// NeedTools skips the test when one of the host tools is missing.
func NeedTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
}

// sourceDir returns this package's directory (for testdata).
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Initrd returns a gzip newc cpio holding the marker program (static,
// CGO_ENABLED=0) as /init and the payload name in /payload.
func Initrd(t testing.TB, name string) []byte {
	t.Helper()
	NeedTools(t, "go")
	cpio, err := os.ReadFile(qemutest.GoInitrd(t, filepath.Join(sourceDir(), "testdata", "marker"),
		qemutest.File{Name: "payload", Mode: 0o644, Data: []byte(name)}))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(cpio); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return gz.Bytes()
}

// Payload writes a payload squashfs (comp "gzip" or "xz") holding
// boot/kernel (Debian's), boot/initrd (the marker, named name) and
// boot/cmdline, and returns its path.
func Payload(t testing.TB, name, cmdline, comp string) string {
	t.Helper()
	NeedTools(t, "mksquashfs")
	k, err := os.ReadFile(testkernel.Get(t).Vmlinuz)
	if err != nil {
		t.Fatal(err)
	}
	return Squash(t, comp, map[string][]byte{
		"boot/kernel":  k,
		"boot/initrd":  Initrd(t, name),
		"boot/cmdline": []byte(cmdline + "\n"),
	})
}

// Squash writes files (slash paths) into a squashfs compressed with comp,
// every file owned by root, and returns its path (in t.TempDir).
func Squash(t testing.TB, comp string, files map[string][]byte) string {
	t.Helper()
	NeedTools(t, "mksquashfs")
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "payload.squashfs")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{root, out, "-comp", comp, "-noappend", "-all-root", "-no-progress", "-quiet"}
	if b, err := exec.CommandContext(ctx, "mksquashfs", args...).CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// SquashSplit writes a two-part payload (see package layout): files under
// boot/ into a bootComp squashfs, the others into a rootComp squashfs after
// it, and returns its path (in t.TempDir).
func SquashSplit(t testing.TB, bootComp, rootComp string, files map[string][]byte) string {
	t.Helper()
	boot, root := map[string][]byte{}, map[string][]byte{}
	for name, data := range files {
		if strings.HasPrefix(name, "boot/") {
			boot[name] = data
		} else {
			root[name] = data
		}
	}
	b, err := os.Open(Squash(t, bootComp, boot))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r, err := os.Open(Squash(t, rootComp, root))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := filepath.Join(t.TempDir(), "payload.squashfs")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := layout.Write(f, b, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}
