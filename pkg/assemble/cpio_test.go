package assemble

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/cpio"
)

func TestWriteCPIOFieldRange(t *testing.T) {
	tests := []struct {
		name string
		h    tar.Header
		want string // "" for no error
	}{
		{"fits", tar.Header{Name: "f", Typeflag: tar.TypeReg, Uid: 1 << 31, Gid: 65534}, ""},
		{"negative uid", tar.Header{Name: "f", Typeflag: tar.TypeReg, Uid: -1}, "uid -1"},
		{"gid over 32 bits", tar.Header{Name: "f", Typeflag: tar.TypeReg, Gid: 1 << 32}, "gid 4294967296"},
		{"device major over 32 bits", tar.Header{Name: "dev/x", Typeflag: tar.TypeChar, Devmajor: 1 << 32}, "device major"},
		{"zero Typeflag is a regular file", tar.Header{Name: "f", Size: 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := cpio.NewWriter(&bytes.Buffer{})
			err := writeCPIO(w, &tt.h, strings.NewReader(strings.Repeat("x", int(tt.h.Size))))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("writeCPIO(%s) = %v, want nil", tt.name, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("writeCPIO(%s) = %v, want an error naming %q", tt.name, err, tt.want)
			}
		})
	}
}
