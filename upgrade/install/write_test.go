package install

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeGzipImage takes an image that expands to exactly size bytes and
// refuses one that is longer, shorter or damaged.
func TestWriteGzipImage(t *testing.T) {
	const size = 3000
	data := bytes.Repeat([]byte("ros image "), size/10)
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	badCRC := gz(data)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 in the trailer
	tests := []struct {
		name    string
		gz      []byte
		wantErr string // "": success
	}{
		{"exact", gz(data), ""},
		{"one byte more", gz(append(bytes.Clone(data), 'x')), "expands to more than 3000 bytes"},
		{"much more", gz(bytes.Repeat(data, 100)), "expands to more than 3000 bytes"},
		{"shorter", gz(data[:size-1]), "read at byte"},
		{"bad checksum", badCRC, "checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "image.gz")
			if err := os.WriteFile(src, tt.gz, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(filepath.Join(dir, "disk.img"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tg := &target{path: f.Name(), f: f}
			err = tg.writeGzipImage(context.Background(), 512, src, size, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("writeGzipImage(%s) = %v, want an error containing %q", tt.name, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("writeGzipImage(%s) = %v, want nil", tt.name, err)
			}
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 512+size || !bytes.Equal(got[512:], data) {
				t.Errorf("writeGzipImage(%s) wrote %d bytes, want the image at 512 (%d bytes)", tt.name, len(got), 512+size)
			}
		})
	}
}
