// Package qemutest holds helpers for tests that boot QEMU: skipping when
// QEMU is missing, Go-built initramfs images, and a Start that cleans up and
// shows the console when a test fails. The kernel comes from pkg/testkernel.
package qemutest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ros-os/ros/pkg/qemu"
)

// Require skips t under -short or when qemu-system-x86_64 is missing.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots QEMU: skipped under -short")
	}
	if _, err := exec.LookPath(qemu.DefaultBinary); err != nil {
		t.Skipf("needs %s (apt-get install qemu-system-x86)", qemu.DefaultBinary)
	}
}

// GoInitrd builds the Go main package pkg statically and returns the path of
// an initramfs (in t.TempDir) with it as /init, plus InitrdFiles and extra.
func GoInitrd(t testing.TB, pkg string, extra ...File) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "init")
	if err := BuildStaticGo(t.Context(), pkg, bin); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	files := append(InitrdFiles(), File{Name: "init", Mode: 0o755, Data: data})
	files = append(files, extra...)
	var buf bytes.Buffer
	if err := WriteInitrd(&buf, files); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "initrd.cpio")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Start boots cfg for the rest of the test: it Requires QEMU, closes the VM
// at cleanup, and when the test failed logs the last 100 console lines.
func Start(t testing.TB, cfg qemu.Config) *qemu.VM {
	t.Helper()
	Require(t)
	vm, err := qemu.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("qemu.Start() = %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("qemu %v\nconsole (last 100 lines):\n%s", vm.Args(), vm.ConsoleTail(100))
		}
		if err := vm.Close(); err != nil {
			t.Errorf("vm.Close() = %v", err)
		}
	})
	return vm
}
