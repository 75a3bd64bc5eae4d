package layout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// superblock returns a squashfs 4.0 superblock that says it uses used
// bytes, padded to used bytes.
func superblock(comp uint16, used int) []byte {
	b := make([]byte, used)
	copy(b, "hsqs")
	le := binary.LittleEndian
	le.PutUint32(b[12:], 1<<20)
	le.PutUint16(b[20:], comp)
	le.PutUint16(b[28:], 4)
	le.PutUint64(b[40:], uint64(used))
	return b
}

func pad(b []byte, n int) []byte { return append(b, make([]byte, n-len(b))...) }

func TestRead(t *testing.T) {
	boot := superblock(1, 5000)
	split := append(pad(boot, 2*Align), superblock(6, 9000)...)
	tests := []struct {
		name     string
		data     []byte
		size     int64 // 0: len(data)
		want     Layout
		wantErr  error
		wantText string
	}{
		{name: "single", data: superblock(4, 7000),
			want: Layout{Boot: Part{0, 7000, "xz", 1 << 20}, Root: Part{0, 7000, "xz", 1 << 20}}},
		{name: "split", data: split,
			want: Layout{Boot: Part{0, 5000, "gzip", 1 << 20}, Root: Part{2 * Align, 9000, "zstd", 1 << 20}}},
		{name: "root cut short by the limit is not a part", data: split, size: 2*Align + 8000,
			want: Layout{Boot: Part{0, 5000, "gzip", 1 << 20}, Root: Part{0, 5000, "gzip", 1 << 20}}},
		{name: "old bytes after a single payload", data: append(pad(boot, 2*Align), []byte("hsqsGARBAGE")...),
			want: Layout{Boot: Part{0, 5000, "gzip", 1 << 20}, Root: Part{0, 5000, "gzip", 1 << 20}}},
		{name: "no squashfs", data: make([]byte, 8192), wantErr: ErrNotSquashfs, wantText: "boot part"},
		{name: "boot larger than the payload", data: superblock(1, 5000), size: 4000, wantErr: ErrNotSquashfs,
			wantText: "5000 bytes used, but 4000 bytes are left"},
		{name: "unknown compression", data: superblock(9, 5000), wantErr: ErrNotSquashfs, wantText: "compression id 9"},
		{name: "version 3", data: func() []byte { b := superblock(1, 5000); b[28] = 3; return b }(), wantErr: ErrNotSquashfs, wantText: "version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.size
			if size == 0 {
				size = int64(len(tt.data))
			}
			got, err := Read(bytes.NewReader(tt.data), size)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !bytes.Contains([]byte(err.Error()), []byte(tt.wantText)) {
					t.Fatalf("Read() = %v, want %v naming %q", err, tt.wantErr, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read() = %v", err)
			}
			if got != tt.want {
				t.Errorf("Read() = %+v, want %+v", got, tt.want)
			}
			if got.Split() != (tt.want.Root.Offset != 0) {
				t.Errorf("Split() = %v", got.Split())
			}
		})
	}
}
