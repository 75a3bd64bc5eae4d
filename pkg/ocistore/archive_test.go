package ocistore

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// An OCI archive whose blob does not match its digest is refused, and
// nothing of it reaches the store (found by FuzzImport's blob check).
func TestImportRejectsTamperedBlob(t *testing.T) {
	ctx := context.Background()
	src, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Put(ctx, "ros/a:1", fixedImage(t, "layer a")); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "a.tar")
	if err := src.Export(ctx, []string{"ros/a:1"}, archive); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(archive)
	tampered := bytes.Replace(data, []byte("layer a"), []byte("layer X"), 1)
	if bytes.Equal(tampered, data) {
		t.Fatal("layer content not found in the archive")
	}
	if err := os.WriteFile(archive, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	dst, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if refs, err := dst.Import(ctx, archive); err == nil || !strings.Contains(err.Error(), "content has digest") {
		t.Errorf("Import(tampered archive) = %v, %v; want a digest error", refs, err)
	}
	if l, err := dst.List(); err != nil || len(l) != 0 {
		t.Errorf("List() after a refused import = %v, %v; want empty", l, err)
	}
	if blobs, _ := os.ReadDir(filepath.Join(dst.Dir(), "blobs", "sha256")); len(blobs) != 0 {
		t.Errorf("a refused import left %d blobs in the store", len(blobs))
	}
}

// A sparse tar entry can claim far more bytes than the archive holds;
// Import refuses it instead of writing them out.
func TestImportRejectsSparseBomb(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("needs GNU tar")
	}
	dir := t.TempDir()
	for name, content := range map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "index.json": `{"schemaVersion":2,"manifests":[]}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := filepath.Join(dir, "blobs", "sha256", "big")
	if err := os.MkdirAll(filepath.Dir(big), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 1<<30); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "sparse.tar")
	cmd := exec.Command("tar", "--sparse", "--format=pax", "-cf", archive, "-C", dir, "oci-layout", "index.json", "blobs")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("tar --sparse: %v\n%s", err, out)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Size() > 1<<20 {
		t.Fatalf("sparse archive: %v, %v; want a small file", fi, err)
	}
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(context.Background(), archive); err == nil || !strings.Contains(err.Error(), "more than the archive holds") {
		t.Errorf("Import(sparse 1 GiB entry) = %v, want an error naming the size", err)
	}
}
