package diskformat

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestConvert(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("needs qemu-img (qemu-utils)")
	}
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.img")
	const size = 64 << 20
	f, _ := os.Create(raw)
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("ros disk"), 1<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, "disk."+name)
			if err := Convert(context.Background(), raw, out, name); err != nil {
				t.Fatalf("Convert(%s) = %v", name, err)
			}
			b, err := exec.Command("qemu-img", "info", "--output=json", out).Output()
			if err != nil {
				t.Fatalf("qemu-img info: %v", err)
			}
			var info struct {
				Format      string `json:"format"`
				VirtualSize int64  `json:"virtual-size"`
			}
			if err := json.Unmarshal(b, &info); err != nil {
				t.Fatal(err)
			}
			if info.Format != Formats[name].Driver || info.VirtualSize != size {
				t.Errorf("qemu-img info %s = format %s, size %d; want %s, %d", name, info.Format, info.VirtualSize, Formats[name].Driver, size)
			}
			if b, err := exec.Command("qemu-img", "compare", "-q", raw, out).CombinedOutput(); err != nil {
				t.Errorf("qemu-img compare raw %s: %v %s", name, err, b)
			}
		})
	}
}

func TestConvertUnknown(t *testing.T) {
	err := Convert(context.Background(), "x", "y", "vdi")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Convert(vdi) = %v, want ErrUnknownFormat", err)
	}
}
