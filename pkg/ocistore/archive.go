package ocistore

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Import adds the images of an archive to the store and returns their
// canonical references. It accepts an OCI image-layout archive (a tar holding
// oci-layout, index.json and blobs/, names taken from the
// io.containerd.image.name or org.opencontainers.image.ref.name annotation)
// and a `docker save` tarball (names from manifest.json's RepoTags).
func (s *Store) Import(ctx context.Context, path string) ([]string, error) {
	names, err := tarNames(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	switch {
	case names["manifest.json"]:
		return s.importDocker(ctx, path)
	case names["index.json"] && names["oci-layout"]:
		return s.importOCI(ctx, path)
	default:
		return nil, fmt.Errorf("import %s: neither an OCI image layout archive nor a docker save tarball (no index.json or manifest.json)", path)
	}
}

func tarNames(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w", err)
		}
		names[strings.TrimPrefix(filepath.ToSlash(filepath.Clean(h.Name)), "./")] = true
	}
}

func (s *Store) importDocker(ctx context.Context, path string) ([]string, error) {
	mf, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		return nil, fmt.Errorf("import %s: read manifest.json: %w", path, err)
	}
	var refs []string
	for i, m := range mf {
		if len(m.RepoTags) == 0 {
			return refs, fmt.Errorf("import %s: image %d (%s) has no name in RepoTags", path, i, m.Config)
		}
		for _, rt := range m.RepoTags {
			tag, err := name.NewTag(rt)
			if err != nil {
				return refs, fmt.Errorf("import %s: image name %q: %w", path, rt, err)
			}
			img, err := tarball.ImageFromPath(path, &tag)
			if err != nil {
				return refs, fmt.Errorf("import %s: image %s: %w", path, rt, err)
			}
			canonical, err := Canonical(rt)
			if err != nil {
				return refs, err
			}
			if err := s.Put(ctx, canonical, img); err != nil {
				return refs, fmt.Errorf("import %s: %w", path, err)
			}
			refs = append(refs, canonical)
		}
	}
	return refs, nil
}

func (s *Store) importOCI(ctx context.Context, path string) ([]string, error) {
	tmp, err := os.MkdirTemp("", "ros-import-")
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	if err := untar(ctx, path, tmp); err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	if err := verifyBlobs(ctx, filepath.Join(tmp, "blobs")); err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	lp, err := layout.FromPath(tmp)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	var refs []string
	for _, d := range im.Manifests {
		ref := d.Annotations[AnnotationImageName]
		if ref == "" {
			ref = d.Annotations[AnnotationRefName]
			// A bare tag has no repository: it cannot be named.
			if ref != "" && !strings.ContainsAny(ref, "/") {
				ref = ""
			}
		}
		if ref == "" {
			return refs, fmt.Errorf("import %s: manifest %s has no image name (annotation %s, or %s with a repository)", path, d.Digest, AnnotationImageName, AnnotationRefName)
		}
		canonical, err := Canonical(ref)
		if err != nil {
			return refs, fmt.Errorf("import %s: %w", path, err)
		}
		switch {
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return refs, fmt.Errorf("import %s: %s: %w", path, canonical, err)
			}
			err = s.Put(ctx, canonical, img)
			if err != nil {
				return refs, fmt.Errorf("import %s: %w", path, err)
			}
		case d.MediaType.IsIndex():
			ii, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return refs, fmt.Errorf("import %s: %s: %w", path, canonical, err)
			}
			if err := s.PutIndex(ctx, canonical, ii); err != nil {
				return refs, fmt.Errorf("import %s: %w", path, err)
			}
		default:
			return refs, fmt.Errorf("import %s: %s: unsupported media type %s", path, canonical, d.MediaType)
		}
		refs = append(refs, canonical)
	}
	return refs, nil
}

// untar extracts regular files and directories of an archive into dir,
// refusing names that leave it and files larger than the archive (a sparse
// entry can claim any size).
func untar(ctx context.Context, path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	budget := fi.Size()
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		clean := filepath.Clean(filepath.FromSlash(h.Name))
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return fmt.Errorf("tar entry %q leaves the archive", h.Name)
		}
		target := filepath.Join(dir, clean)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if h.Size > budget {
				return fmt.Errorf("tar entry %q: %d bytes, more than the archive holds", h.Name, h.Size)
			}
			budget -= h.Size
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil { //nolint:gosec // G110: an uncompressed tar file: output is bounded by its size
				out.Close()
				return fmt.Errorf("extract %s: %w", h.Name, err)
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
	}
}

// verifyBlobs checks that every blob of an extracted image layout holds
// the content its name promises, before any of it reaches the store (the
// layout reader trusts names, and the store is content-addressed).
func verifyBlobs(ctx context.Context, dir string) error {
	// Walk and open inside dir only: the tree came from an archive.
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer root.Close()
	return fs.WalkDir(root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() || !e.Type().IsRegular() {
			return nil
		}
		alg := filepath.Base(filepath.Dir(p))
		want, err := v1.NewHash(alg + ":" + e.Name())
		if err != nil {
			return fmt.Errorf("blob %s/%s: %w", alg, e.Name(), err)
		}
		bf, err := root.Open(p)
		if err != nil {
			return err
		}
		defer bf.Close()
		got, _, err := v1.SHA256(bf)
		if err != nil {
			return fmt.Errorf("blob %s: %w", want, err)
		}
		if got != want {
			return fmt.Errorf("blob %s: content has digest %s", want, got)
		}
		return nil
	})
}

// Export writes the images named by refs to path as one OCI image-layout
// archive (tar), loadable with `ros cache import`, `ctr image import` or
// `skopeo copy oci-archive:`. Entries are sorted with fixed times, so the
// same images always give the same bytes.
func (s *Store) Export(ctx context.Context, refs []string, path string) error {
	unlock, err := s.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	im, err := s.readIndex()
	if err != nil {
		return err
	}
	out := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	blobs := map[string]v1.Descriptor{}
	for _, ref := range refs {
		canonical, err := Canonical(ref)
		if err != nil {
			return err
		}
		d, ok := find(im, canonical)
		if !ok {
			return fmt.Errorf("export %s: %w", canonical, ErrNotFound)
		}
		bs, err := s.blobsOf(d)
		if err != nil {
			return fmt.Errorf("export %s: %w", canonical, err)
		}
		for _, b := range bs {
			blobs[b.Digest.String()] = b
		}
		d.Annotations = map[string]string{AnnotationImageName: canonical, AnnotationRefName: tagOf(canonical)}
		out.Manifests = append(out.Manifests, d)
	}
	index, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("export: encode index: %w", err)
	}

	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	err = s.writeArchive(ctx, f, index, blobs)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func (s *Store) writeArchive(ctx context.Context, w io.Writer, index []byte, blobs map[string]v1.Descriptor) error {
	tw := tar.NewWriter(w)
	epoch := time.Unix(0, 0)
	dir := func(n string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: n, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
	}
	file := func(n string, r io.Reader, size int64) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: size, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	layoutFile := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := file("oci-layout", bytes.NewReader(layoutFile), int64(len(layoutFile))); err != nil {
		return err
	}
	if err := file("index.json", bytes.NewReader(index), int64(len(index))); err != nil {
		return err
	}
	if err := dir("blobs/"); err != nil {
		return err
	}
	keys := make([]string, 0, len(blobs))
	for k := range blobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	algs := map[string]bool{}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := blobs[k].Digest
		if !algs[h.Algorithm] {
			algs[h.Algorithm] = true
			if err := dir("blobs/" + h.Algorithm + "/"); err != nil {
				return err
			}
		}
		bf, err := os.Open(s.blobPath(h))
		if err != nil {
			return fmt.Errorf("blob %s: %w", h, err)
		}
		st, err := bf.Stat()
		if err == nil {
			err = file("blobs/"+h.Algorithm+"/"+h.Hex, bf, st.Size())
		}
		bf.Close()
		if err != nil {
			return fmt.Errorf("blob %s: %w", h, err)
		}
	}
	return tw.Close()
}
