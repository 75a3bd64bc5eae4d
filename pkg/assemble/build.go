// Package assemble builds the root filesystem tree of a ros machine from a
// merged build file and its images, in LinuxKit's layout, as one tar stream:
//
//	boot/kernel, boot/cmdline, boot/ucode.cpio   the kernel section
//	/ (lib/modules/..., /sbin/init, ...)        the kernel tar and the init images
//	containers/onboot/000-name/                  onboot containers, numbered in order
//	containers/onshutdown/000-name/              onshutdown containers, likewise
//	containers/services/name/                    services
//	containers/volumes/name/{lower,tmp,merged}/  volumes
//	files entries                                wherever they say
//
// Each container directory holds config.json (the OCI runtime spec),
// runtime.json (what the service runner does before starting it) and its
// root filesystem: rootfs/ for a read-only container, or lower/ (the image),
// tmp/ (where a tmpfs holds the overlay's upper and work dirs) and rootfs/
// (the overlay's mount point) for a writable one.
//
// The output depends only on the inputs: entries come in a fixed order,
// generated entries carry Options.ModTime, no path appears twice, and user
// names, access and change times of the images are dropped.
//
// It also turns such a tree into LinuxKit's output formats (see Outputs).
package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ros-os/ros/pkg/buildfile"
)

// ImageSource gives the images a build names. ref is the reference in
// canonical form (buildfile.CanonicalRef: "docker.io/ros/getty",
// "docker.io/library/alpine:3.21"), without an implicit tag.
type ImageSource interface {
	Image(ctx context.Context, ref string) (v1.Image, error)
}

// Options tune Build.
type Options struct {
	// ModTime is the modification time of every entry the build generates
	// (directories it creates, config.json, files entries ...). Images keep
	// their own times. Zero means the Unix epoch; see SourceDateEpoch.
	ModTime time.Time
	// TempDir holds the kernel while it is split up ("" = os.TempDir()).
	TempDir string
	// NoDedup extracts an image used by several containers once per
	// container. By default, as LinuxKit does, later containers bind-mount the
	// first one's root filesystem (a runtime.json mount).
	NoDedup bool
	// Logger receives one line per section and image; nil discards.
	Logger *slog.Logger
}

// SourceDateEpoch returns the time in $SOURCE_DATE_EPOCH, or the Unix epoch
// when it is unset: the ModTime a reproducible build uses.
func SourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected seconds since 1970: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

// builder holds one build's state.
type builder struct {
	cfg  *buildfile.Config
	src  ImageSource
	opts Options
	log  *slog.Logger
	t    *treeWriter

	ids      map[string]uint32   // container name -> uid/gid LinuxKit allocates
	files    []preparedFile      // files entries with their contents
	override map[string]bool     // paths files entries write -> is a directory
	dedup    map[string]string   // image digest -> root filesystem already written
	images   map[string]v1.Image // canonical ref -> image, fetched once
}

// Build writes the tree the merged build file cfg describes to w, as an
// uncompressed tar stream, fetching images from src. It checks cfg with
// Validate first. Errors about an entry name the build file and line.
func Build(ctx context.Context, cfg *buildfile.Config, src ImageSource, w io.Writer, opts Options) error {
	if err := Validate(cfg); err != nil {
		return err
	}
	if opts.ModTime.IsZero() {
		opts.ModTime = time.Unix(0, 0)
	}
	opts.ModTime = opts.ModTime.UTC().Truncate(time.Second)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &builder{
		cfg: cfg, src: src, opts: opts, log: log,
		t:      newTreeWriter(w, opts.ModTime),
		ids:    containerIDs(cfg),
		dedup:  map[string]string{},
		images: map[string]v1.Image{},
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"files", b.prepareFiles}, // read sources first: fail before the slow part
		{"kernel and init", b.writeRoot},
		{"onboot", func(ctx context.Context) error { return b.writeContainers(ctx, "onboot", cfg.Onboot) }},
		{"onshutdown", func(ctx context.Context) error { return b.writeContainers(ctx, "onshutdown", cfg.Onshutdown) }},
		{"services", func(ctx context.Context) error { return b.writeContainers(ctx, "services", cfg.Services) }},
		{"volumes", b.writeVolumes},
		{"files", b.writeFiles},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			return err
		}
		b.log.Debug("assemble: step done", "step", s.name, "duration", time.Since(start))
	}
	if err := b.t.close(); err != nil {
		return fmt.Errorf("finish tar: %w", err)
	}
	return nil
}

// containerIDs allocates each container a uid and gid, from 100 in the
// order onboot, onshutdown, services, as LinuxKit does: a uid or gid given
// by a container's name refers to it.
func containerIDs(cfg *buildfile.Config) map[string]uint32 {
	ids := map[string]uint32{}
	id := uint32(100)
	for _, sec := range [][]*buildfile.Image{cfg.Onboot, cfg.Onshutdown, cfg.Services} {
		for _, img := range sec {
			ids[img.Name] = id
			id++
		}
	}
	return ids
}

// image fetches an image by reference, once per build.
func (b *builder) image(ctx context.Context, ref string) (v1.Image, error) {
	if buildfile.IsTemplate(ref) {
		return nil, fmt.Errorf("image %s: unresolved package template", ref)
	}
	canon, err := buildfile.CanonicalRef(ref)
	if err != nil {
		return nil, err
	}
	if img, ok := b.images[canon]; ok {
		return img, nil
	}
	b.log.Info("assemble: image", "ref", canon)
	img, err := b.src.Image(ctx, canon)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", canon, err)
	}
	if img == nil {
		return nil, fmt.Errorf("image %s: %w", canon, errors.New("image source returned no image"))
	}
	b.images[canon] = img
	return img, nil
}
