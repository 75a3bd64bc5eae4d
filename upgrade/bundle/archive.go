package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// AnnotationRefName is the OCI layout annotation naming an image (its tag).
const AnnotationRefName = "org.opencontainers.image.ref.name"

const (
	layoutFile = "oci-layout"
	indexFile  = "index.json"
	maxSmall   = 4 << 20 // index, manifest and config blobs
)

// WriteArchive writes img to w as an OCI image layout in a tar (an "OCI
// archive", as `skopeo copy oci-archive:` and `ctr image import` read),
// with tag as the image's ref name ("" for none).
func WriteArchive(w io.Writer, img v1.Image, tag string) error {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	desc := v1.Descriptor{MediaType: mt, Size: int64(len(rawManifest)), Digest: digestOf(rawManifest)}
	if tag != "" {
		desc.Annotations = map[string]string{AnnotationRefName: tag}
	}
	index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{desc}})
	if err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}

	tw := tar.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644}); err != nil {
			return fmt.Errorf("write oci archive: %s: %w", name, err)
		}
		if _, err := io.CopyBuffer(tw, r, make([]byte, copyBufferSize)); err != nil {
			return fmt.Errorf("write oci archive: %s: %w", name, err)
		}
		return nil
	}
	addBytes := func(name string, b []byte) error { return add(name, int64(len(b)), bytes.NewReader(b)) }
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}); err != nil {
			return fmt.Errorf("write oci archive: %w", err)
		}
	}
	if err := addBytes(layoutFile, []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := addBytes(indexFile, index); err != nil {
		return err
	}
	if err := addBytes(blobPath(desc.Digest), rawManifest); err != nil {
		return err
	}
	if err := addBytes(blobPath(digestOf(rawConfig)), rawConfig); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return fmt.Errorf("write oci archive: %w", err)
		}
		size, err := l.Size()
		if err != nil {
			return fmt.Errorf("write oci archive: %w", err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return fmt.Errorf("write oci archive: layer %s: %w", d, err)
		}
		err = add(blobPath(d), size, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write oci archive: %w", err)
	}
	return nil
}

// Archive is an opened OCI archive (an OCI layout in a tar file). Images
// read from it stay valid until Close.
type Archive struct {
	f     *os.File
	name  string
	files map[string]span
}

type span struct{ off, size int64 }

// OpenArchive indexes the entries of the OCI archive at path.
func OpenArchive(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open oci archive: %w", err)
	}
	a := &Archive{f: f, name: path, files: map[string]span{}}
	tr := tar.NewReader(f) // *os.File seeks over blobs instead of reading them
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("oci archive %s: %w", path, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("oci archive %s: %w", path, err)
		}
		a.files[cleanName(hdr.Name)] = span{off, hdr.Size}
	}
	if _, ok := a.files[indexFile]; !ok {
		f.Close()
		return nil, fmt.Errorf("oci archive %s: no %s: not an OCI layout", path, indexFile)
	}
	return a, nil
}

// Close closes the archive file.
func (a *Archive) Close() error { return a.f.Close() }

// Image returns the image named tag (its ref name annotation, or the part
// after the last ':' of it), or the only image when tag is "".
func (a *Archive) Image(tag string) (v1.Image, error) {
	raw, err := a.small(indexFile)
	if err != nil {
		return nil, err
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("oci archive %s: %s: %w", a.name, indexFile, err)
	}
	var picked []v1.Descriptor
	for _, d := range index.Manifests {
		ref := d.Annotations[AnnotationRefName]
		if tag == "" || ref == tag || strings.HasSuffix(ref, ":"+tag) {
			picked = append(picked, d)
		}
	}
	switch {
	case len(picked) == 0 && tag != "":
		return nil, fmt.Errorf("oci archive %s: no image tagged %q", a.name, tag)
	case len(picked) == 0:
		return nil, fmt.Errorf("oci archive %s: no image", a.name)
	case len(picked) > 1:
		return nil, fmt.Errorf("oci archive %s: %d images match %q: name one", a.name, len(picked), tag)
	}
	desc := picked[0]
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("oci archive %s: %s is a %s, not an image manifest", a.name, desc.Digest, desc.MediaType)
	}
	rawManifest, err := a.blob(desc.Digest)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, fmt.Errorf("oci archive %s: manifest %s: %w", a.name, desc.Digest, err)
	}
	return partial.CompressedToImage(&archiveImage{a: a, raw: rawManifest, m: m, mt: desc.MediaType})
}

// small reads a small file of the archive whole.
func (a *Archive) small(name string) ([]byte, error) {
	s, ok := a.files[name]
	if !ok {
		return nil, fmt.Errorf("oci archive %s: no %s", a.name, name)
	}
	if s.size > maxSmall {
		return nil, fmt.Errorf("oci archive %s: %s is %d bytes, limit %d", a.name, name, s.size, maxSmall)
	}
	b := make([]byte, s.size)
	if _, err := a.f.ReadAt(b, s.off); err != nil {
		return nil, fmt.Errorf("oci archive %s: read %s: %w", a.name, name, err)
	}
	return b, nil
}

// blob reads a small blob and checks its digest.
func (a *Archive) blob(d v1.Hash) ([]byte, error) {
	b, err := a.small(blobPath(d))
	if err != nil {
		return nil, err
	}
	if got := digestOf(b); got != d {
		return nil, fmt.Errorf("oci archive %s: %w: blob %s hashes to %s", a.name, ErrHash, d, got)
	}
	return b, nil
}

type archiveImage struct {
	a   *Archive
	raw []byte
	m   *v1.Manifest
	mt  types.MediaType
}

func (i *archiveImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *archiveImage) MediaType() (types.MediaType, error) { return i.mt, nil }
func (i *archiveImage) RawConfigFile() ([]byte, error)      { return i.a.blob(i.m.Config.Digest) }

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, d := range i.m.Layers {
		if d.Digest != h {
			continue
		}
		s, ok := i.a.files[blobPath(h)]
		if !ok {
			return nil, fmt.Errorf("oci archive %s: layer %s missing", i.a.name, h)
		}
		if s.size != d.Size {
			return nil, fmt.Errorf("oci archive %s: layer %s is %d bytes, the manifest says %d", i.a.name, h, s.size, d.Size)
		}
		return &archiveLayer{r: io.NewSectionReader(i.a.f, s.off, s.size), desc: d}, nil
	}
	return nil, fmt.Errorf("oci archive %s: no layer %s in the manifest", i.a.name, h)
}

type archiveLayer struct {
	r    *io.SectionReader
	desc v1.Descriptor
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(l.r, 0, l.r.Size())), nil
}

func blobPath(d v1.Hash) string { return "blobs/" + d.Algorithm + "/" + d.Hex }

func digestOf(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}
