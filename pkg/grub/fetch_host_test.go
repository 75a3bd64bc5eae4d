//go:build !rosdevice

package grub

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestUnpackDir(t *testing.T) {
	type entry struct {
		name string
		typ  byte
		body string
	}
	tests := []struct {
		name    string
		entries []entry
		want    map[string]string
	}{
		{
			name: "files directly inside",
			entries: []entry{
				{"./usr/lib/grub/x86_64-efi/", tar.TypeDir, ""},
				{"./usr/lib/grub/x86_64-efi/kernel.img", tar.TypeReg, "core"},
				{"usr/lib/grub/x86_64-efi/linux.mod", tar.TypeReg, "linux"},
				{"./usr/lib/grub/i386-pc/linux.mod", tar.TypeReg, "bios"},
			},
			want: map[string]string{"kernel.img": "core", "linux.mod": "linux"},
		},
		{
			name: "subdirectories, links and escapes skipped",
			entries: []entry{
				{"./usr/lib/grub/x86_64-efi/monolithic/grubx64.efi", tar.TypeReg, "mono"},
				{"./usr/lib/grub/x86_64-efi/link.mod", tar.TypeSymlink, ""},
				{"./usr/lib/grub/x86_64-efi/../../../../etc/passwd", tar.TypeReg, "root"},
				{"../usr/lib/grub/x86_64-efi/ok.mod", tar.TypeReg, "ok"},
			},
			want: map[string]string{"ok.mod": "ok"},
		},
		{name: "nothing there", entries: []entry{{"./etc/grub.d/00_header", tar.TypeReg, "x"}}, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range tt.entries {
				h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body))}
				if e.typ == tar.TypeSymlink {
					h.Linkname = "/etc/shadow"
				}
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				if _, err := tw.Write([]byte(e.body)); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			stage := filepath.Join(t.TempDir(), "x86_64-efi")
			if err := unpackDir(&buf, "usr/lib/grub/x86_64-efi", stage); err != nil {
				t.Fatalf("unpackDir = %v", err)
			}
			got := map[string]string{}
			ents, _ := os.ReadDir(stage)
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(stage, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				got[e.Name()] = string(b)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("extracted %v, want %v", got, tt.want)
			}
		})
	}
}
