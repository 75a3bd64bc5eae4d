// Package ocistore keeps container images in a local OCI image layout
// directory (~/.cache/ros/oci by default), keyed by canonical Docker
// references such as docker.io/ros/getty:0123456789ab.
package ocistore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrNotFound is returned (wrapped) when an image is not in the store.
var ErrNotFound = errors.New("image not found")

// Store is a local OCI image layout. It is safe for concurrent use within one
// process; an advisory file lock serialises writers across processes.
type Store struct {
	dir      string
	path     layout.Path
	platform v1.Platform
	mu       sync.Mutex
}

// Entry describes one named image in the store.
type Entry struct {
	Ref     string    // canonical reference, e.g. docker.io/ros/getty:0123456789ab
	Digest  v1.Hash   // manifest (or index) digest
	Size    int64     // manifest + config + compressed layers, in bytes
	Created time.Time // from the image config; zero for an index
}

// Open opens the store in dir, creating an empty OCI layout if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open image store %s: %w", dir, err)
	}
	s := &Store{dir: dir, platform: v1.Platform{OS: "linux", Architecture: "amd64"}}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); errors.Is(err, os.ErrNotExist) {
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			return nil, fmt.Errorf("create image store %s: %w", dir, err)
		}
		s.path = p
		return s, nil
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("open image store %s: %w", dir, err)
	}
	s.path = p
	return s, nil
}

// Dir returns the store directory.
func (s *Store) Dir() string { return s.dir }

// lock takes the in-process mutex and a file lock (shared or exclusive).
func (s *Store) lock(exclusive bool) (unlock func(), err error) {
	s.mu.Lock()
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		s.mu.Unlock()
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		s.mu.Unlock()
	}, nil
}

func (s *Store) readIndex() (*v1.IndexManifest, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("read store index: %w", err)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse store index %s: %w", filepath.Join(s.dir, "index.json"), err)
	}
	return im, nil
}

// writeIndex replaces index.json atomically, descriptors sorted by name.
func (s *Store) writeIndex(im *v1.IndexManifest) error {
	sort.SliceStable(im.Manifests, func(i, j int) bool {
		return im.Manifests[i].Annotations[AnnotationImageName] < im.Manifests[j].Annotations[AnnotationImageName]
	})
	if im.MediaType == "" {
		im.MediaType = types.OCIImageIndex
	}
	b, err := json.MarshalIndent(im, "", "  ")
	if err != nil {
		return fmt.Errorf("encode store index: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".index-*.json")
	if err != nil {
		return fmt.Errorf("write store index: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write store index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write store index: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, "index.json")); err != nil {
		return fmt.Errorf("write store index: %w", err)
	}
	return nil
}

// find returns the descriptor stored for a canonical reference. A digest
// reference matches any descriptor with that digest in the same repository.
func find(im *v1.IndexManifest, canonical string) (v1.Descriptor, bool) {
	for _, d := range im.Manifests {
		if d.Annotations[AnnotationImageName] == canonical {
			return d, true
		}
	}
	if dg := digestOf(canonical); dg != "" {
		repo := canonical[:len(canonical)-len(dg)-1]
		for _, d := range im.Manifests {
			name := d.Annotations[AnnotationImageName]
			r, err := Repository(name)
			if err == nil && r == repo && d.Digest.String() == dg {
				return d, true
			}
		}
	}
	return v1.Descriptor{}, false
}

// Image returns the image stored under ref. An image index is resolved to
// its linux/amd64 image. It returns an error wrapping ErrNotFound when the
// store has no such image.
func (s *Store) Image(ctx context.Context, ref string) (v1.Image, error) {
	canonical, err := Canonical(ref)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	im, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	d, ok := find(im, canonical)
	if !ok {
		return nil, fmt.Errorf("image %s: %w", canonical, ErrNotFound)
	}
	return s.imageFor(d, canonical)
}

func (s *Store) imageFor(d v1.Descriptor, canonical string) (v1.Image, error) {
	switch {
	case d.MediaType.IsImage():
		img, err := s.path.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("read image %s from store: %w", canonical, err)
		}
		return img, nil
	case d.MediaType.IsIndex():
		idx, err := s.path.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("read store index: %w", err)
		}
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("read image index %s from store: %w", canonical, err)
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("read image index %s from store: %w", canonical, err)
		}
		for _, c := range cm.Manifests {
			if c.Platform != nil && c.Platform.Satisfies(s.platform) && c.MediaType.IsImage() {
				img, err := child.Image(c.Digest)
				if err != nil {
					return nil, fmt.Errorf("read image %s (%s) from store: %w", canonical, c.Platform, err)
				}
				return img, nil
			}
		}
		return nil, fmt.Errorf("image %s has no %s variant: %w", canonical, s.platform.String(), ErrNotFound)
	default:
		return nil, fmt.Errorf("image %s: unsupported media type %s", canonical, d.MediaType)
	}
}

// Has reports whether ref is in the store.
func (s *Store) Has(ctx context.Context, ref string) (bool, error) {
	_, err := s.Image(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Put stores img under ref, replacing any image previously stored there.
func (s *Store) Put(ctx context.Context, ref string, img v1.Image) error {
	return s.put(ctx, ref, img)
}

// PutIndex stores an image index under ref, replacing any previous image.
func (s *Store) PutIndex(ctx context.Context, ref string, idx v1.ImageIndex) error {
	return s.put(ctx, ref, idx)
}

// Tag gives the image stored under src the additional name dst.
func (s *Store) Tag(ctx context.Context, src, dst string) error {
	cs, err := Canonical(src)
	if err != nil {
		return err
	}
	cd, err := Canonical(dst)
	if err != nil {
		return err
	}
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	im, err := s.readIndex()
	if err != nil {
		return err
	}
	d, ok := find(im, cs)
	if !ok {
		return fmt.Errorf("tag %s as %s: image %s: %w", src, dst, cs, ErrNotFound)
	}
	return s.setDescriptor(im, cd, d)
}

func (s *Store) put(ctx context.Context, ref string, a partial.Describable) error {
	canonical, err := Canonical(ref)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	var d *v1.Descriptor
	switch x := a.(type) {
	case v1.Image:
		if err := s.path.WriteImage(x); err != nil {
			return fmt.Errorf("store image %s: %w", canonical, err)
		}
		d, err = partial.Descriptor(x)
	case v1.ImageIndex:
		if err := s.path.WriteIndex(x); err != nil {
			return fmt.Errorf("store image index %s: %w", canonical, err)
		}
		d, err = partial.Descriptor(x)
	default:
		return fmt.Errorf("store %s: not an image or index", canonical)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", canonical, err)
	}
	if dg := digestOf(canonical); dg != "" && dg != d.Digest.String() {
		return fmt.Errorf("store %s: image digest is %s", canonical, d.Digest)
	}
	im, err := s.readIndex()
	if err != nil {
		return err
	}
	return s.setDescriptor(im, canonical, *d)
}

// setDescriptor names d canonical in im and writes the index.
func (s *Store) setDescriptor(im *v1.IndexManifest, canonical string, d v1.Descriptor) error {
	out := im.Manifests[:0]
	for _, m := range im.Manifests {
		if m.Annotations[AnnotationImageName] != canonical {
			out = append(out, m)
		}
	}
	d.Annotations = map[string]string{AnnotationImageName: canonical, AnnotationRefName: tagOf(canonical)}
	d.Platform = nil
	im.Manifests = append(out, d)
	return s.writeIndex(im)
}

// List returns every named image in the store, sorted by reference.
func (s *Store) List() ([]Entry, error) {
	unlock, err := s.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	im, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range im.Manifests {
		name := d.Annotations[AnnotationImageName]
		if name == "" {
			continue
		}
		e := Entry{Ref: name, Digest: d.Digest}
		blobs, err := s.blobsOf(d)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", name, err)
		}
		for _, b := range blobs {
			e.Size += b.Size
		}
		if d.MediaType.IsImage() {
			if img, err := s.path.Image(d.Digest); err == nil {
				if cf, err := img.ConfigFile(); err == nil {
					e.Created = cf.Created.Time
				}
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// Remove deletes the name ref and every blob no other name still uses.
func (s *Store) Remove(ref string) error {
	canonical, err := Canonical(ref)
	if err != nil {
		return err
	}
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	im, err := s.readIndex()
	if err != nil {
		return err
	}
	d, ok := find(im, canonical)
	if !ok {
		return fmt.Errorf("remove %s: %w", canonical, ErrNotFound)
	}
	out := im.Manifests[:0]
	for _, m := range im.Manifests {
		if m.Annotations[AnnotationImageName] != d.Annotations[AnnotationImageName] {
			out = append(out, m)
		}
	}
	im.Manifests = out
	if err := s.writeIndex(im); err != nil {
		return err
	}
	return s.gc(im)
}

// gc deletes blobs not reachable from im.
func (s *Store) gc(im *v1.IndexManifest) error {
	keep := map[string]bool{}
	for _, d := range im.Manifests {
		blobs, err := s.blobsOf(d)
		if err != nil {
			return fmt.Errorf("collect garbage: %w", err)
		}
		for _, b := range blobs {
			keep[b.Digest.String()] = true
		}
	}
	root := filepath.Join(s.dir, "blobs")
	return filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		alg, hex := filepath.Split(rel)
		if keep[filepath.Clean(alg)+":"+hex] {
			return nil
		}
		if err := os.Remove(p); err != nil { //nolint:gosec // G122: WalkDir does not follow symlinks and Remove unlinks the entry itself
			return fmt.Errorf("collect garbage: %w", err)
		}
		return nil
	})
}

// blobsOf lists the descriptors of every blob reachable from d, d included.
func (s *Store) blobsOf(d v1.Descriptor) ([]v1.Descriptor, error) {
	out := []v1.Descriptor{d}
	switch {
	case d.MediaType.IsIndex():
		raw, err := s.path.Bytes(d.Digest)
		if err != nil {
			return nil, err
		}
		im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("parse index %s: %w", d.Digest, err)
		}
		for _, c := range im.Manifests {
			bs, err := s.blobsOf(c)
			if err != nil {
				return nil, err
			}
			out = append(out, bs...)
		}
	case d.MediaType.IsImage():
		raw, err := s.path.Bytes(d.Digest)
		if err != nil {
			return nil, err
		}
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("parse manifest %s: %w", d.Digest, err)
		}
		out = append(out, m.Config)
		for _, l := range m.Layers {
			if _, err := os.Stat(s.blobPath(l.Digest)); err != nil && l.MediaType.IsDistributable() {
				return nil, fmt.Errorf("layer %s of %s: %w", l.Digest, d.Digest, err)
			} else if err == nil {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

func (s *Store) blobPath(h v1.Hash) string {
	return filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex)
}
