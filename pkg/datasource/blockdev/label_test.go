package blockdev

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// makeImage builds a filesystem image with a host tool holding the files
// given, and skips when the tool is missing.
func makeImage(t *testing.T, kind, label string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, kind+".img")
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var cmds [][]string
	switch kind {
	case "iso":
		cmds = [][]string{{"xorriso", "-as", "mkisofs", "-quiet", "-V", label, "-J", "-r", "-o", img, src}}
	case "fat12":
		cmds = [][]string{{"mkfs.vfat", "-C", "-n", label, img, "1440"}}
	case "fat32":
		cmds = [][]string{{"truncate", "-s", "40M", img}, {"mkfs.vfat", "-F", "32", "-n", label, img}}
	case "ext4":
		cmds = [][]string{{"truncate", "-s", "8M", img}, {"mkfs.ext4", "-q", "-F", "-L", label, "-d", src, img}}
	}
	if kind == "fat12" || kind == "fat32" {
		for name := range files {
			cmds = append(cmds, []string{"mcopy", "-i", img, filepath.Join(src, name), "::" + name})
		}
	}
	for _, c := range cmds {
		if _, err := exec.LookPath(c[0]); err != nil {
			t.Skipf("needs %s", c[0])
		}
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	return img
}

func TestProbeImages(t *testing.T) {
	tests := []struct {
		kind, label, wantType string
	}{
		{"iso", "cidata", ISO9660},
		{"iso", "config-2", ISO9660},
		{"fat12", "CIDATA", VFAT},
		{"fat32", "cidata", VFAT},
		{"ext4", "config-2", Ext4},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"-"+tt.label, func(t *testing.T) {
			img := makeImage(t, tt.kind, tt.label, map[string]string{"user-data": "#cloud-config\n"})
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fstype, label, err := Probe(f)
			// mkfs.vfat upper-cases labels; ISO9660 keeps what -V gave.
			if err != nil || fstype != tt.wantType || !bytes.EqualFold([]byte(label), []byte(tt.label)) {
				t.Errorf("Probe(%s) = %q, %q, %v; want %q, %q", tt.kind, fstype, label, err, tt.wantType, tt.label)
			}
		})
	}
}

func TestProbeUnknown(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":  nil,
		"short":  []byte("hello"),
		"zeroes": make([]byte, 64<<10),
		"mbr only": func() []byte {
			b := make([]byte, 64<<10)
			b[510], b[511] = 0x55, 0xAA
			return b
		}(),
	} {
		if fstype, label, err := Probe(bytes.NewReader(b)); !errors.Is(err, ErrUnknown) {
			t.Errorf("Probe(%s) = %q, %q, %v; want ErrUnknown", name, fstype, label, err)
		}
	}
}

func FuzzProbe(f *testing.F) {
	iso := make([]byte, 34816)
	copy(iso[isoPVDOffset:], "\x01CD001")
	copy(iso[isoPVDOffset+isoVolIDStart:], "cidata")
	f.Add(iso)
	fat := make([]byte, 512)
	fat[38], fat[510], fat[511] = 0x29, 0x55, 0xAA
	copy(fat[43:], "CIDATA     FAT12   ")
	f.Add(fat)
	f.Fuzz(func(t *testing.T, b []byte) {
		fstype, _, err := Probe(bytes.NewReader(b))
		if (err == nil) == (fstype == "") {
			t.Fatalf("Probe() = %q, %v: want a type exactly when there is no error", fstype, err)
		}
	})
}
