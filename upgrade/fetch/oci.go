package fetch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ros-os/ros/upgrade/bundle"
)

// fetchArchive extracts the bundle carried by an image in an OCI archive
// (written by bundle.WriteArchive, skopeo or similar).
func fetchArchive(ctx context.Context, path, tag, dst string, o Options) error {
	a, err := bundle.OpenArchive(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return err
	}
	defer a.Close()
	img, err := a.Image(tag)
	if err != nil {
		return err
	}
	return fromImage(ctx, img, dst, o)
}

// fetchRegistry pulls the bundle image ref from its registry.
func fetchRegistry(ctx context.Context, ref, dst string, o Options) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	arch := o.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}),
	}
	if o.Client != nil && o.Client.Transport != nil {
		opts = append(opts, remote.WithTransport(o.Client.Transport))
	}
	img, err := remote.Image(r, opts...)
	if err != nil {
		return fmt.Errorf("pull %s: %w", r, err)
	}
	return fromImage(ctx, img, dst, o)
}

// fromImage writes the image's bundle layer to dst through dst+".part".
func fromImage(ctx context.Context, img v1.Image, dst string, o Options) error {
	layer, err := bundle.BundleLayer(img)
	if err != nil {
		return err
	}
	size, err := layer.Size()
	if err != nil {
		return fmt.Errorf("bundle layer size: %w", err)
	}
	if o.Size > 0 && size != o.Size {
		return fmt.Errorf("%w: the image's bundle is %d bytes, want %d", ErrSize, size, o.Size)
	}
	d, err := create(dst, o)
	if err != nil {
		return err
	}
	d.total = size
	d.report()
	if _, err := bundle.FromImage(ctx, img, d); err != nil {
		d.discard()
		return err
	}
	return d.finish()
}
