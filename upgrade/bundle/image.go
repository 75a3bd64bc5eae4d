package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ros-os/ros/upgrade/progress"
)

// Annotations and labels set on bundle images.
const (
	AnnotationVersion = "org.opencontainers.image.version"
	AnnotationCreated = "org.opencontainers.image.created"
	AnnotationTitle   = "org.opencontainers.image.title"
	LabelCompatible   = "dev.ros.compatible"
	imageOS           = "linux"
	layerMediaType    = types.MediaType(MediaType)
	copyBufferSize    = 1 << 20
)

// ToImage makes an OCI image that carries the bundle file as its single
// layer (media type MediaType, blob = the bundle file byte for byte), so a
// registry or an OCI archive can serve it. The config records the arch and
// version. The file is hashed once here; ctx cancels that. The image reads
// the bundle lazily: keep b open while the image is in use.
func ToImage(ctx context.Context, b *Bundle) (v1.Image, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, progress.Reader(ctx, b.File()), make([]byte, copyBufferSize)); err != nil {
		return nil, fmt.Errorf("bundle %s to image: %w", b.name, err)
	}
	layer := &fileLayer{
		r:      b.r,
		size:   b.size,
		digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))},
	}
	m := b.manifest
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: m.Arch,
		OS:           imageOS,
		Created:      v1.Time{Time: m.BuildTime},
		Config: v1.Config{Labels: map[string]string{
			AnnotationVersion: m.Version,
			LabelCompatible:   m.Compatible,
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("bundle %s to image: %w", b.name, err)
	}
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:       layer,
		MediaType:   layerMediaType,
		Annotations: map[string]string{AnnotationTitle: fmt.Sprintf("ros-%s-%s.bundle", m.Version, m.Arch)},
	})
	if err != nil {
		return nil, fmt.Errorf("bundle %s to image: %w", b.name, err)
	}
	// The bundle layer is not a filesystem layer: like other OCI artifacts it
	// has no diff_id in the config (Append added one).
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("bundle %s to image: %w", b.name, err)
	}
	cfg = cfg.DeepCopy()
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}}
	cfg.History = nil
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return nil, fmt.Errorf("bundle %s to image: %w", b.name, err)
	}
	annotated, ok := mutate.Annotations(img, map[string]string{
		AnnotationVersion: m.Version,
		AnnotationCreated: m.BuildTime.UTC().Format("2006-01-02T15:04:05Z"),
	}).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("bundle %s to image: annotations did not keep an image", b.name)
	}
	return annotated, nil
}

// BundleLayer returns the image's bundle layer: the one layer whose media
// type is MediaType. Anything else is ErrFormat.
func BundleLayer(img v1.Image) (v1.Layer, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("read image layers: %w", err)
	}
	var found v1.Layer
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("read image layer media type: %w", err)
		}
		if mt != layerMediaType {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: image holds more than one %s layer", ErrFormat, MediaType)
		}
		found = l
	}
	if found == nil {
		return nil, fmt.Errorf("%w: image holds no %s layer", ErrFormat, MediaType)
	}
	return found, nil
}

// FromImage copies the bundle file carried by img to w and checks it
// against the layer's digest (ErrHash on a mismatch). It returns the
// number of bytes written.
func FromImage(ctx context.Context, img v1.Image, w io.Writer) (int64, error) {
	layer, err := BundleLayer(img)
	if err != nil {
		return 0, err
	}
	want, err := layer.Digest()
	if err != nil {
		return 0, fmt.Errorf("bundle layer digest: %w", err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return 0, fmt.Errorf("read bundle layer %s: %w", want, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(w, h), progress.Reader(ctx, rc), make([]byte, copyBufferSize))
	if err != nil {
		return n, fmt.Errorf("read bundle layer %s: %w", want, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); want.Algorithm != "sha256" || got != want.Hex {
		return n, fmt.Errorf("%w: bundle layer is sha256:%s, the image says %s", ErrHash, got, want)
	}
	return n, nil
}

// fileLayer is an uncompressed layer whose blob is a whole bundle file.
type fileLayer struct {
	r      io.ReaderAt
	size   int64
	digest v1.Hash
}

func (l *fileLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error) { return l.digest, nil }
func (l *fileLayer) Size() (int64, error)     { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) {
	return layerMediaType, nil
}
func (l *fileLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(l.r, 0, l.size)), nil
}
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }
