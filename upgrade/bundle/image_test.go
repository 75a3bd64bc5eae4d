package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestImageRoundTrip(t *testing.T) {
	priv, pub := testKey(t)
	data := makeBundle(t, testManifest("v2"), 20_000, priv)
	b, err := openBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ToImage(context.Background(), b)
	if err != nil {
		t.Fatalf("ToImage: %v", err)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("validate.Image(ToImage()) = %v", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil || cfg.Architecture != "amd64" || cfg.OS != "linux" || cfg.Config.Labels[AnnotationVersion] != "v2" {
		t.Errorf("ToImage() config = %+v, %v; want amd64/linux labelled v2", cfg, err)
	}
	var out bytes.Buffer
	if n, err := FromImage(context.Background(), img, &out); err != nil || n != int64(len(data)) {
		t.Fatalf("FromImage(ToImage()) = %d, %v; want %d bytes", n, err, len(data))
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("FromImage(ToImage()) differs from the bundle file")
	}

	// Through an OCI archive and back.
	dir := t.TempDir()
	arch := filepath.Join(dir, "ros.oci.tar")
	f, err := os.Create(arch)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(f, img, "v2"); err != nil {
		t.Fatalf("WriteArchive: %v", err)
	}
	f.Close()
	a, err := OpenArchive(arch)
	if err != nil {
		t.Fatalf("OpenArchive: %v", err)
	}
	defer a.Close()
	for _, tag := range []string{"v2", ""} {
		img2, err := a.Image(tag)
		if err != nil {
			t.Fatalf("Archive.Image(%q): %v", tag, err)
		}
		if err := validate.Image(img2); err != nil {
			t.Errorf("validate.Image(archive image) = %v", err)
		}
		d1, _ := img.Digest()
		d2, _ := img2.Digest()
		if d1 != d2 {
			t.Errorf("archive image digest = %v, want %v", d2, d1)
		}
		out.Reset()
		if _, err := FromImage(context.Background(), img2, &out); err != nil {
			t.Fatalf("FromImage(archive image): %v", err)
		}
		b2, err := openBytes(out.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := b2.Verify(context.Background(), Policy{Keys: []PublicKey{pub}, Arch: "amd64"}); err != nil {
			t.Errorf("Verify(bundle from archive) = %v", err)
		}
	}
	if _, err := a.Image("v3"); err == nil || !strings.Contains(err.Error(), `"v3"`) {
		t.Errorf(`Archive.Image("v3") = %v, want "no image tagged"`, err)
	}

	// An independent reader (go-containerregistry's layout) accepts the archive.
	lp := filepath.Join(dir, "layout")
	untar(t, arch, lp)
	p, err := layout.FromPath(lp)
	if err != nil {
		t.Fatalf("layout.FromPath: %v", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 || im.Manifests[0].Annotations[AnnotationRefName] != "v2" {
		t.Fatalf("layout index = %+v, %v; want one manifest named v2", im, err)
	}
	limg, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(limg); err != nil {
		t.Errorf("validate.Image(layout image) = %v", err)
	}
}

func TestFromImageRefuses(t *testing.T) {
	img, err := random.Image(100, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromImage(context.Background(), img, io.Discard); !errors.Is(err, ErrFormat) {
		t.Errorf("FromImage(image without a bundle layer) = %v, want ErrFormat", err)
	}
}

func TestArchiveCorruptBlob(t *testing.T) {
	b, err := openBytes(makeBundle(t, testManifest("v2"), 5000, nil))
	if err != nil {
		t.Fatal(err)
	}
	img, err := ToImage(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteArchive(&buf, img, ""); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Flip a byte inside the bundle blob: the archive ends with it, then the
	// tar trailer; 3000 bytes from the end is in the payload's random bytes.
	path := filepath.Join(t.TempDir(), "bad.tar")
	corrupt := bytes.Clone(data)
	corrupt[len(corrupt)-3000] ^= 1
	if err := os.WriteFile(path, corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := OpenArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	img2, err := a.Image("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromImage(context.Background(), img2, io.Discard); !errors.Is(err, ErrHash) {
		t.Errorf("FromImage(corrupt blob) = %v, want ErrHash", err)
	}
	if _, err := OpenArchive(writeFile(t, t.TempDir(), "x.tar", rawTar(t, entry{"hello", []byte("x")}))); err == nil {
		t.Errorf("OpenArchive(tar without index.json) = nil error, want one")
	}
}

func untar(t *testing.T, src, dir string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, hdr.Name)
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
