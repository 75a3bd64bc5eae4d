package payload

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/disk/boottest"
)

// makeSquashfs builds a squashfs of files with mksquashfs.
func makeSquashfs(t *testing.T, comp string, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("needs mksquashfs")
	}
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "p.squashfs")
	if b, err := exec.Command("mksquashfs", root, out, "-comp", comp, "-noappend", "-no-progress", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, b)
	}
	return out
}

// makeSplit builds a two-part payload: boot files in a bootComp squashfs,
// the rest in a rootComp squashfs after it.
func makeSplit(t *testing.T, bootComp, rootComp string, files map[string]string) string {
	t.Helper()
	bin := map[string][]byte{}
	for k, v := range files {
		bin[k] = []byte(v)
	}
	return boottest.SquashSplit(t, bootComp, rootComp, bin)
}

var good = map[string]string{
	"boot/kernel":  "KERNEL",
	"boot/initrd":  "INITRD",
	"boot/cmdline": "console=ttyS0 panic=5\n",
	"etc/hostname": "ros\n",
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name, comp string
		split      bool
		path       func(t *testing.T) string
	}{
		{"single gzip", "gzip", false, func(t *testing.T) string { return makeSquashfs(t, "gzip", good) }},
		{"single xz", "xz", false, func(t *testing.T) string { return makeSquashfs(t, "xz", good) }},
		{"gzip boot, zstd root", "zstd", true, func(t *testing.T) string { return makeSplit(t, "gzip", "zstd", good) }},
		{"xz boot, xz root", "xz", true, func(t *testing.T) string { return makeSplit(t, "xz", "xz", good) }},
		{"gzip boot, gzip root", "gzip", true, func(t *testing.T) string { return makeSplit(t, "gzip", "gzip", good) }},
	}
	for _, tt := range tests {
		comp := tt.comp
		t.Run(tt.name, func(t *testing.T) {
			p, err := Open(tt.path(t))
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			defer p.Close()
			if p.Layout.Split() != tt.split {
				t.Errorf("Open() layout %+v, want split=%v", p.Layout, tt.split)
			}
			if p.Compression != comp || p.Cmdline != "console=ttyS0 panic=5" {
				t.Errorf("Open() = %+v, want compression %s, cmdline %q", p.Info, comp, "console=ttyS0 panic=5")
			}
			if b, err := p.ReadFile(Kernel); err != nil || string(b) != "KERNEL" {
				t.Errorf("ReadFile(%s) = %q, %v; want KERNEL", Kernel, b, err)
			}
			if n, err := p.Stat(Initrd); err != nil || n != 6 {
				t.Errorf("Stat(%s) = %d, %v; want 6", Initrd, n, err)
			}
			// The rest of the tree is read from the root part.
			if b, err := p.ReadFile("/etc/hostname"); err != nil || string(b) != "ros\n" {
				t.Errorf("ReadFile(/etc/hostname) = %q, %v; want ros", b, err)
			}
		})
	}
}

func TestOpenBad(t *testing.T) {
	without := func(name string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			if k != name {
				m[k] = v
			}
		}
		return m
	}
	notSquashfs := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(notSquashfs, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"one zstd squashfs (GRUB cannot read it)", makeSquashfs(t, "zstd", good)},
		{"zstd boot part", makeSplit(t, "zstd", "zstd", good)},
		{"lzo root part", makeSplit(t, "gzip", "lzo", good)},
		{"split, no kernel in the boot part", makeSplit(t, "gzip", "zstd", map[string]string{"etc/hostname": "x", "boot/x": "x"})},
		{"no kernel", makeSquashfs(t, "gzip", without("boot/kernel"))},
		{"no initrd", makeSquashfs(t, "gzip", without("boot/initrd"))},
		{"no cmdline", makeSquashfs(t, "gzip", without("boot/cmdline"))},
		{"not squashfs", notSquashfs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Open(tt.path)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Open(%s) = %v, %v; want ErrInvalid", tt.name, p, err)
			}
		})
	}
}

func TestCheckCompression(t *testing.T) {
	tests := []struct {
		comp string
		ok   bool
	}{
		{"xz", true},
		{"gzip", true},
		{"", false},
		{"zstd", true}, // in the root part, which only Linux reads
		{"lzo", false}, // GRUB reads it; go-diskfs could not
		{"XZ", false},
	}
	for _, tt := range tests {
		err := CheckCompression(tt.comp)
		if (err == nil) != tt.ok {
			t.Errorf("CheckCompression(%q) = %v, want ok=%v", tt.comp, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "zstd, xz, gzip") {
			t.Errorf("CheckCompression(%q) = %v, want the choices named", tt.comp, err)
		}
	}
}
