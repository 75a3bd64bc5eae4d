package osimage

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk/payload"
)

// TestBuildPayloadLayout: the boot files go into a gzip squashfs GRUB
// reads, everything else into the root squashfs after it, in the chosen
// compressor (zstd by default, in 1 MiB blocks without fragments).
func TestBuildPayloadLayout(t *testing.T) {
	for _, tool := range []string{"mksquashfs", "unsquashfs", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	tests := []struct {
		comp, want string
		block      uint32
	}{
		{"", "zstd", 1 << 20},
		{"xz", "xz", 128 << 10},
		{"gzip", "gzip", 128 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "payload")
			p, err := BuildPayload(t.Context(), bytes.NewReader(rosTree(t, "console=ttyS0")), out,
				PayloadOptions{Compression: tt.comp, ModTime: time.Unix(0, 0), TempDir: t.TempDir()})
			if err != nil {
				t.Fatalf("BuildPayload() = %v", err)
			}
			defer p.Close()
			got, err := payload.Open(out)
			if err != nil {
				t.Fatalf("payload.Open() = %v", err)
			}
			defer got.Close()
			l := got.Layout
			if !l.Split() || l.Boot.Compression != "gzip" || l.Root.Compression != tt.want || l.Root.BlockSize != tt.block {
				t.Errorf("layout %+v, want a gzip boot part and a %s root in %d-byte blocks", l, tt.want, tt.block)
			}
			if got.Cmdline != "console=ttyS0" {
				t.Errorf("cmdline %q", got.Cmdline)
			}
			initrd, err := got.ReadFile(payload.Initrd)
			if err != nil || !bytes.HasPrefix(initrd, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				t.Errorf("boot/initrd: %v, want a zstd initramfs (starts % x)", err, initrd[:min(len(initrd), 4)])
			}
			list := func(off int64) string {
				b, err := exec.Command("unsquashfs", "-o", strconv.FormatInt(off, 10), "-l", "-d", "", out).CombinedOutput()
				if err != nil {
					t.Fatalf("unsquashfs -o %d: %v\n%s", off, err, b)
				}
				return string(b)
			}
			boot, root := list(0), list(l.Root.Offset)
			for _, f := range []string{"/boot/kernel", "/boot/initrd", "/boot/cmdline"} {
				if !strings.Contains(boot, f) || strings.Contains(root, f) {
					t.Errorf("%s: want it in the boot part only\nboot:\n%s\nroot:\n%s", f, boot, root)
				}
			}
			if !strings.Contains(root, "/etc/motd") || strings.Contains(boot, "/etc/motd") {
				t.Errorf("etc/motd: want it in the root part only\nboot:\n%s\nroot:\n%s", boot, root)
			}
			// mksquashfs pads its output to 4 KiB.
			if fi, err := os.Stat(out); err != nil || fi.Size() != l.Root.Offset+(l.Root.Size+4095)/4096*4096 {
				t.Errorf("payload size %v, %v: want the padded root part to end it (%+v)", fi.Size(), err, l.Root)
			}
		})
	}
}
