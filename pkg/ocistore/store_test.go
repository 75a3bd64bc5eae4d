package ocistore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ros/getty", "docker.io/ros/getty:latest"},
		{"ros/getty:abc", "docker.io/ros/getty:abc"},
		{"docker.io/ros/getty:abc", "docker.io/ros/getty:abc"},
		{"alpine", "docker.io/library/alpine:latest"},
		{"localhost:5000/x/y:1", "localhost:5000/x/y:1"},
	} {
		got, err := Canonical(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	if n, ok := ComponentName("ros/getty:1"); !ok || n != "getty" {
		t.Errorf("ComponentName(ros/getty:1) = %q, %v, want getty, true", n, ok)
	}
	if _, ok := ComponentName("alpine"); ok {
		t.Errorf("ComponentName(alpine) = true, want false")
	}
}

func TestPutImageListRemove(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Image(ctx, "ros/getty:x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Image(missing) = %v, want ErrNotFound", err)
	}
	a, b := randomImage(t), randomImage(t)
	if err := s.Put(ctx, "ros/a:1", a); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "ros/b:1", b); err != nil {
		t.Fatal(err)
	}
	// Re-putting under the same name replaces it.
	if err := s.Put(ctx, "ros/b:1", b); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, "ros/a:1", "ros/a:latest"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Image(ctx, "docker.io/ros/a:1")
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, got) != digest(t, a) {
		t.Errorf("Image(ros/a:1) digest = %s, want %s", digest(t, got), digest(t, a))
	}
	byDigest, err := s.Image(ctx, "ros/b@"+digest(t, b).String())
	if err != nil || digest(t, byDigest) != digest(t, b) {
		t.Errorf("Image(ros/b@digest) = %v, want image b", err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, e := range list {
		refs = append(refs, e.Ref)
		if e.Size <= 0 {
			t.Errorf("List() entry %s size = %d, want > 0", e.Ref, e.Size)
		}
	}
	if want := "docker.io/ros/a:1 docker.io/ros/a:latest docker.io/ros/b:1"; strings.Join(refs, " ") != want {
		t.Errorf("List() = %v, want %s", refs, want)
	}

	blobs := func() int {
		n := 0
		_ = filepath.WalkDir(filepath.Join(s.Dir(), "blobs"), func(_ string, d os.DirEntry, _ error) error {
			if d != nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	before := blobs()
	if err := s.Remove("ros/b:1"); err != nil {
		t.Fatal(err)
	}
	if after := blobs(); after != before-4 { // manifest, config, 2 layers
		t.Errorf("blobs after Remove = %d, want %d", after, before-4)
	}
	if err := s.Remove("ros/a:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Image(ctx, "ros/a:latest"); err != nil {
		t.Errorf("Image(ros/a:latest) after removing ros/a:1 = %v, want found (shared blobs kept)", err)
	}
	if err := s.Remove("ros/a:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(missing) = %v, want ErrNotFound", err)
	}
	// Reopen sees the same content.
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s2.Has(ctx, "ros/a:latest"); !ok || err != nil {
		t.Errorf("Has(ros/a:latest) after reopen = %v, %v, want true", ok, err)
	}
}

func TestExportImportOCI(t *testing.T) {
	ctx := context.Background()
	src, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, b := randomImage(t), randomImage(t)
	if err := src.Put(ctx, "ros/a:1", a); err != nil {
		t.Fatal(err)
	}
	if err := src.Put(ctx, "quay.io/x/b:2", b); err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: a, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	if err := src.PutIndex(ctx, "ros/multi:1", idx); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "images.tar")
	refs := []string{"ros/a:1", "quay.io/x/b:2", "ros/multi:1"}
	if err := src.Export(ctx, refs, archive); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(t.TempDir(), "again.tar")
	if err := src.Export(ctx, refs, again); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(archive)
	b2, _ := os.ReadFile(again)
	if string(b1) != string(b2) {
		t.Errorf("Export twice gave different archives")
	}

	dst, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, err := dst.Import(ctx, archive)
	if err != nil {
		t.Fatal(err)
	}
	want := "docker.io/ros/a:1 quay.io/x/b:2 docker.io/ros/multi:1"
	if strings.Join(got, " ") != want {
		t.Errorf("Import() = %v, want %s", got, want)
	}
	for ref, img := range map[string]v1.Image{"ros/a:1": a, "quay.io/x/b:2": b, "ros/multi:1": a} {
		g, err := dst.Image(ctx, ref)
		if err != nil {
			t.Errorf("Image(%s) after import = %v", ref, err)
			continue
		}
		if digest(t, g) != digest(t, img) {
			t.Errorf("Image(%s) digest = %s, want %s", ref, digest(t, g), digest(t, img))
		}
		// Layers must be readable, not just listed.
		ls, _ := g.Layers()
		for _, l := range ls {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatalf("layer of %s: %v", ref, err)
			}
			rc.Close()
		}
	}
}

func TestImportDockerSave(t *testing.T) {
	ctx := context.Background()
	img := randomImage(t)
	tag, err := name.NewTag("example.com/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	tag2, _ := name.NewTag("busybox:1")
	archive := filepath.Join(t.TempDir(), "save.tar")
	if err := tarball.MultiRefWriteToFile(archive, map[name.Reference]v1.Image{tag: img, tag2: img}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	refs, err := s.Import(ctx, archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 {
		t.Fatalf("Import(docker save) = %v, want 2 refs", refs)
	}
	for _, ref := range []string{"example.com/team/app:v1", "docker.io/library/busybox:1"} {
		g, err := s.Image(ctx, ref)
		if err != nil {
			t.Fatalf("Image(%s) = %v", ref, err)
		}
		want, _ := img.ConfigName()
		if got, _ := g.ConfigName(); got != want {
			t.Errorf("Image(%s) config = %s, want %s", ref, got, want)
		}
		mt, _ := g.MediaType()
		if mt != types.DockerManifestSchema2 && mt != types.OCIManifestSchema1 {
			t.Errorf("Image(%s) media type = %s", ref, mt)
		}
	}
}

func TestImportRejectsOther(t *testing.T) {
	p := filepath.Join(t.TempDir(), "junk.tar")
	if err := os.WriteFile(p, make([]byte, 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := Open(t.TempDir())
	if _, err := s.Import(context.Background(), p); err == nil {
		t.Errorf("Import(empty tar) = nil error, want error")
	}
}

func TestResolveOffline(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Store: s, Offline: true}
	_, err = r.Resolve(ctx, "ros/getty:0123456789ab")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve(missing, offline) = %v, want ErrNotFound", err)
	}
	for _, want := range []string{"docker.io/ros/getty:0123456789ab", "offline", "ros image build images/getty", "ros cache import FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve error %q does not mention %q", err, want)
		}
	}
	_, err = r.Resolve(ctx, "alpine:3")
	if err == nil || strings.Contains(err.Error(), "ros image build") || !strings.Contains(err.Error(), "ros cache import") {
		t.Errorf("Resolve(alpine:3, offline) = %v, want import hint only", err)
	}
	img := randomImage(t)
	if err := s.Put(ctx, "ros/getty:0123456789ab", img); err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(ctx, "ros/getty:0123456789ab")
	if err != nil || digest(t, got) != digest(t, img) {
		t.Errorf("Resolve(stored) = %v, want the stored image", err)
	}
}

func TestResolvePullFails(t *testing.T) {
	s, _ := Open(t.TempDir())
	r := &Resolver{Store: s}
	// Nothing listens on this port: the pull fails fast, the error says so.
	_, err := r.Resolve(context.Background(), "127.0.0.1:1/ros/none:1")
	var me *MissingError
	if !errors.As(err, &me) || me.Err == nil || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve(unreachable) = %v, want *MissingError with pull error", err)
	}
	if !strings.Contains(err.Error(), "pulling it failed") {
		t.Errorf("Resolve error %q does not say the pull failed", err)
	}
}
