package ocistore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fixedImage is a small image with the same bytes on every run, so that
// the fuzz seeds do not change.
func fixedImage(tb testing.TB, content string) v1.Image {
	tb.Helper()
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer([]byte(content), types.OCILayer))
	if err != nil {
		tb.Fatal(err)
	}
	img, err = mutate.CreatedAt(img, v1.Time{Time: time.Unix(0, 0)})
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// importSeeds are archives of the kinds TestExportImportOCI and
// TestImportDockerSave read: an OCI layout archive with an image and an
// index, a docker save tarball, and a tar that is neither.
func importSeeds(f *testing.F) [][]byte {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	src, err := Open(filepath.Join(dir, "store"))
	if err != nil {
		f.Fatal(err)
	}
	a, b := fixedImage(f, "layer a"), fixedImage(f, "layer b")
	if err := src.Put(ctx, "ros/a:1", a); err != nil {
		f.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: b, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	if err := src.PutIndex(ctx, "quay.io/x/multi:2", idx); err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for i, refs := range [][]string{{"ros/a:1"}, {"ros/a:1", "quay.io/x/multi:2"}} {
		p := filepath.Join(dir, "oci"+string(rune('0'+i))+".tar")
		if err := src.Export(ctx, refs, p); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	tag, err := name.NewTag("example.com/team/app:v1")
	if err != nil {
		f.Fatal(err)
	}
	var save bytes.Buffer
	if err := tarball.MultiRefWrite(map[name.Reference]v1.Image{tag: a}, &save); err != nil {
		f.Fatal(err)
	}
	return append(seeds, save.Bytes(), make([]byte, 1024))
}

// FuzzImport imports arbitrary bytes as an image archive into an empty
// store. Import must not panic or write outside the store; a failed import
// is an error; the refs it returns are canonical and readable; and every
// blob left in the store, even after a failed import, holds the content its
// digest names (a store is content-addressed: a lying archive must not
// plant a blob under another blob's name).
func FuzzImport(f *testing.F) {
	for _, s := range importSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		root := fuzzDir(t)
		tmp := filepath.Join(root, "tmp")
		if err := os.Mkdir(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TMPDIR", tmp)
		archive := filepath.Join(root, "in.tar")
		if err := os.WriteFile(archive, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(filepath.Join(root, "store"))
		if err != nil {
			t.Fatal(err)
		}
		refs, err := s.Import(ctx, archive)
		if err == nil {
			for _, ref := range refs {
				if c, err := Canonical(ref); err != nil || c != ref {
					t.Fatalf("Import() returned %q, want a canonical reference (%q, %v)", ref, c, err)
				}
				if ok, err := s.Has(ctx, ref); !ok || err != nil {
					t.Fatalf("Has(%s) after Import = %v, %v; want true", ref, ok, err)
				}
			}
			if _, err := s.List(); err != nil {
				t.Fatalf("List() after Import = %v", err)
			}
		}
		checkBlobs(t, filepath.Join(root, "store", "blobs"))
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("Import left %d entries in TMPDIR", len(left))
		}
		if all, _ := os.ReadDir(root); len(all) != 3 {
			t.Fatalf("Import wrote beside the store: %d entries in its parent, want store, tmp and in.tar", len(all))
		}
	})
}

// checkBlobs fails when a sha256 blob under dir does not hash to its name.
func checkBlobs(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dir, "sha256"), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != e.Name() {
			t.Fatalf("blob sha256:%s in the store holds content with digest sha256:%s", e.Name(), got)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("walk store blobs: %v", err)
	}
}

// fuzzDir is a fresh directory for one input, on /dev/shm when there is
// one: an import touches a dozen files, and on a busy disk their creation
// and removal take most of the time (about 15 times fewer execs here).
func fuzzDir(t *testing.T) string {
	t.Helper()
	parent := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		parent = "/dev/shm"
	}
	dir, err := os.MkdirTemp(parent, "ros-fuzz-import-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
