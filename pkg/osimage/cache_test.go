package osimage

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/initramfs"
)

// rosTree is the smallest tree BuildPayload accepts: a kernel, a command
// line and a stage-1 program.
func rosTree(t *testing.T, cmdline string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{KernelPath, "not really a kernel"},
		{CmdlinePath, cmdline + "\n"},
		{StageOnePath, "#!/bin/sh\n"},
		{"etc/motd", "hello\n"},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCachedPayload(t *testing.T) {
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("needs mksquashfs")
	}
	cache := t.TempDir()
	po := PayloadOptions{Compression: "gzip", ModTime: time.Unix(0, 0)}
	build := func(tree []byte) *Payload {
		t.Helper()
		p, err := cachedPayload(t.Context(), cache, t.TempDir(), bytes.NewReader(tree), po)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := build(rosTree(t, "console=ttyS0"))
	again := build(rosTree(t, "console=ttyS0"))
	if first.Squashfs != again.Squashfs || again.Cmdline != "console=ttyS0" {
		t.Errorf("same tree twice: payloads %s and %s (cmdline %q), want one cache entry", first.Squashfs, again.Squashfs, again.Cmdline)
	}
	other := build(rosTree(t, "console=tty0"))
	if other.Squashfs == first.Squashfs {
		t.Errorf("changed tree reused cache entry %s", other.Squashfs)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "*"))
	if len(entries) != 2 {
		t.Errorf("cache holds %d entries (%v), want 2", len(entries), entries)
	}
	for _, f := range []string{again.Squashfs, again.Kernel, again.Initrd} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("cached payload file: %v", err)
		}
	}
	// A PXE image from a cached payload: stage-1 initramfs, then the payload.
	base := filepath.Join(t.TempDir(), "pxe")
	if err := WritePXE(t.Context(), again, base, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	initrd, err := os.ReadFile(base + "-initrd.img")
	if err != nil {
		t.Fatal(err)
	}
	sq, _ := os.ReadFile(again.Squashfs)
	if !bytes.Contains(initrd, sq) || !bytes.Contains(initrd, []byte("rootfs.squashfs")) {
		t.Errorf("PXE initrd (%d bytes) does not carry the payload as rootfs.squashfs", len(initrd))
	}
}

func TestOptionsKey(t *testing.T) {
	base := PayloadOptions{Compression: "xz", ModTime: time.Unix(0, 0)}
	with := func(f func(*PayloadOptions)) PayloadOptions { po := base; f(&po); return po }
	tests := []struct {
		name string
		a, b PayloadOptions
		same bool
	}{
		{"nil modules are the defaults", base, with(func(po *PayloadOptions) { po.Modules = initramfs.DefaultModules }), true},
		{"other modules", base, with(func(po *PayloadOptions) { po.Modules = []string{"ext4"} }), false},
		{"other compression", base, with(func(po *PayloadOptions) { po.Compression = "gzip" }), false},
		{"other epoch", base, with(func(po *PayloadOptions) { po.ModTime = time.Unix(1, 0) }), false},
	}
	for _, tt := range tests {
		if got := optionsKey(tt.a) == optionsKey(tt.b); got != tt.same {
			t.Errorf("%s: keys equal = %v, want %v (%q, %q)", tt.name, got, tt.same, optionsKey(tt.a), optionsKey(tt.b))
		}
	}
	for _, d := range initramfs.DefaultDrivers {
		if !strings.Contains(optionsKey(base), d) {
			t.Errorf("key %q leaves out driver %s: a new driver list would reuse old payloads", optionsKey(base), d)
		}
	}
}

// unread fails the test that reads it.
type unread struct{ t *testing.T }

func (u unread) Read([]byte) (int, error) {
	u.t.Error("BuildPayload read the tree before refusing the compression")
	return 0, io.ErrUnexpectedEOF
}

func TestBuildPayloadRefusesCompression(t *testing.T) {
	for _, comp := range []string{"lz4", "lzo"} {
		_, err := BuildPayload(t.Context(), unread{t}, filepath.Join(t.TempDir(), "p.squashfs"), PayloadOptions{Compression: comp})
		if err == nil || !strings.Contains(err.Error(), comp) {
			t.Errorf("BuildPayload(compression %q) = %v, want an error naming it", comp, err)
		}
	}
}
