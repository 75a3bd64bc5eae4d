//go:build rosstatic

package state

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSegmentSize checks that the static build's wrap of raft_uv_init
// took: raft prepares open segments of SegmentSize, not its 8 MiB
// default; and a value larger than a segment is still stored (raft grows
// that segment) and read back after a restart.
func TestSegmentSize(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	ctx := context.Background()
	if err := s.Put(ctx, "small", []byte("x")); err != nil {
		t.Fatal(err)
	}
	open, err := filepath.Glob(filepath.Join(dir, "open-*"))
	if err != nil || len(open) == 0 {
		t.Fatalf("no open segments in %s (%v)", dir, err)
	}
	for _, p := range open {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != SegmentSize {
			t.Errorf("%s: %d bytes, want %d", p, fi.Size(), SegmentSize)
		}
	}

	big := strings.Repeat("x", 2*SegmentSize)
	if err := s.Put(ctx, "big", []byte(big)); err != nil {
		t.Fatalf("Put of %d bytes: %v", len(big), err)
	}
	closeT(t, s)
	s = openT(t, dir)
	defer closeT(t, s)
	if got, err := s.Get(ctx, "big"); err != nil || string(got) != big {
		t.Errorf("Get after reopening: %d bytes, %v", len(got), err)
	}
}
