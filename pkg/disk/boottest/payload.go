// Package boottest builds tiny bootable payloads and boots images in QEMU
// for the boot-medium writers' tests (pkg/disk, pkg/iso). It uses Debian's
// kernel (downloaded once with apt-get into the ros cache) and an initramfs
// whose /init prints a marker line and powers off.
package boottest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Marker is the prefix of the line the test initramfs prints.
const Marker = "ROS-TEST-BOOT"

// CacheDir returns $ROS_CACHE or ~/.cache/ros.
func CacheDir(t testing.TB) string {
	if d := os.Getenv("ROS_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("cache dir: %v", err)
	}
	return filepath.Join(home, ".cache", "ros")
}

// NeedTools skips the test when one of the host tools is missing.
func NeedTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
}

func run(t testing.TB, ctx context.Context, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Kernel returns the path of a Debian amd64 kernel (bzImage), fetched with
// `apt-get download` into <cache>/testkernel and unpacked once.
func Kernel(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(CacheDir(t), "testkernel")
	vmlinuz := filepath.Join(dir, "vmlinuz")
	if _, err := os.Stat(vmlinuz); err == nil {
		return vmlinuz
	}
	NeedTools(t, "apt-get", "apt-cache", "dpkg-deb")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// linux-image-amd64 depends on the current linux-image-6.1.0-N-amd64.
	pkg := ""
	for _, line := range strings.Split(run(t, ctx, dir, "apt-cache", "depends", "linux-image-amd64"), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: "); ok && strings.HasPrefix(v, "linux-image-") {
			pkg = v
			break
		}
	}
	if pkg == "" {
		t.Skip("cannot find the current linux-image package with apt-cache")
	}
	debs, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(debs) == 0 {
		run(t, ctx, dir, "apt-get", "download", pkg)
		debs, _ = filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	}
	if len(debs) == 0 {
		t.Fatalf("apt-get download %s left no .deb in %s", pkg, dir)
	}
	x := filepath.Join(dir, "x")
	os.RemoveAll(x)
	run(t, ctx, dir, "dpkg-deb", "-x", debs[0], x)
	found, _ := filepath.Glob(filepath.Join(x, "boot", "vmlinuz-*"))
	if len(found) == 0 {
		t.Fatalf("no boot/vmlinuz-* in %s", debs[0])
	}
	b, err := os.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vmlinuz+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(vmlinuz+".tmp", vmlinuz); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(x) // the modules are not needed: the marker init needs none
	return vmlinuz
}

// sourceDir returns this package's directory (for testdata).
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Initrd builds the marker program (static, CGO_ENABLED=0) with the payload
// name baked in and returns a gzip newc cpio holding it as /init.
func Initrd(t testing.TB, name string) []byte {
	t.Helper()
	NeedTools(t, "go")
	bin := filepath.Join(t.TempDir(), "init")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.payload="+name, "-o", bin, "./testdata/marker")
	cmd.Dir = sourceDir()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build marker: %v\n%s", err, out)
	}
	init, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var cpio bytes.Buffer
	w := newCpio(&cpio)
	w.dir("dev")
	w.dir("proc")
	w.file("init", 0o755, init)
	w.close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(cpio.Bytes())
	zw.Close()
	return gz.Bytes()
}

// Payload writes a payload squashfs (comp "gzip" or "xz") holding
// boot/kernel (Debian's), boot/initrd (the marker, named name) and
// boot/cmdline, and returns its path.
func Payload(t testing.TB, name, cmdline, comp string) string {
	t.Helper()
	NeedTools(t, "mksquashfs")
	kernel := Kernel(t)
	root := filepath.Join(t.TempDir(), "root")
	boot := filepath.Join(root, "boot")
	if err := os.MkdirAll(boot, 0o755); err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(kernel)
	if err != nil {
		t.Fatal(err)
	}
	for file, data := range map[string][]byte{
		"kernel":  k,
		"initrd":  Initrd(t, name),
		"cmdline": []byte(cmdline + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(boot, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), fmt.Sprintf("payload-%s.squashfs", name))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run(t, ctx, "", "mksquashfs", root, out, "-comp", comp, "-noappend", "-all-root", "-no-progress", "-quiet")
	return out
}
