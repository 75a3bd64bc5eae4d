// Package osbuild runs a whole OS build, the work behind `ros build`: read
// and merge the build files, find every image they name (building ros
// component images from their recipes), assemble the tree and write each
// requested output format.
package osbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/ocistore"
	"github.com/ros-os/ros/pkg/recipe"
)

// Options describe one build.
type Options struct {
	Files   []string // build files, merged in order
	Formats []string // output formats; default "tar"
	Dir     string   // output folder; default "."
	Name    string   // output name; default the first file's base name without extension
	// ImagesDir holds the recipes of ros/NAME images; default the images/
	// folder nearest above the first build file (see FindImagesDir).
	ImagesDir string
	Store     *ocistore.Store
	Offline   bool // never pull from a registry
	// Compression is the squashfs compressor of the payload's root ("" =
	// zstd) and of kernel+squashfs ("" = xz).
	Compression string
	// Outputs is the format table; default assemble.DefaultOutputs().
	Outputs assemble.Outputs
	// Recipe tunes component image builds.
	Recipe recipe.Options
	Logger *slog.Logger
	// Version is the OS version written to usr/lib/ros/version (with the
	// architecture in usr/lib/ros/arch): what upgrades compare and what
	// `ros os version` prints. "" writes neither.
	Version string
}

// Paths of the version files in an OS tree.
const (
	VersionPath = "usr/lib/ros/version"
	ArchPath    = "usr/lib/ros/arch"
)

// stampVersion adds the version files to the merged configuration.
func stampVersion(cfg *buildfile.Config, version string) {
	if version == "" {
		return
	}
	arch := runtime.GOARCH
	cfg.Files = append(cfg.Files,
		buildfile.File{Path: VersionPath, Contents: &version, Mode: "0644"},
		buildfile.File{Path: ArchPath, Contents: &arch, Mode: "0644"})
}

// Load reads and merges build files, as `ros build` and `--dry-run` do.
func Load(files []string) (*buildfile.Config, error) {
	if len(files) == 0 {
		return nil, errors.New("no build file given")
	}
	cfgs := make([]*buildfile.Config, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read build file: %w", err)
		}
		c, err := buildfile.Parse(f, data)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, c)
	}
	return buildfile.Merge(cfgs...)
}

// DryRun validates the merged files and writes the merged configuration, as
// `linuxkit build --dry-run` does. It resolves no image.
func DryRun(w io.Writer, files []string) error {
	cfg, err := Load(files)
	if err != nil {
		return err
	}
	if err := assemble.Validate(cfg); err != nil {
		return err
	}
	out, err := buildfile.Render(cfg)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// Build runs the build and returns the output base path (Dir/Name).
func Build(ctx context.Context, opts Options) (string, error) {
	cfg, err := Load(opts.Files)
	if err != nil {
		return "", err
	}
	if opts.Store == nil {
		return "", errors.New("build: no image store")
	}
	stampVersion(cfg, opts.Version)
	formats := opts.Formats
	if len(formats) == 0 {
		formats = []string{"tar"}
	}
	outs := opts.Outputs
	if outs == nil {
		outs = assemble.DefaultOutputs()
	}
	if err := outs.Check(formats); err != nil {
		return "", err
	}
	imagesDir := opts.ImagesDir
	if imagesDir == "" {
		imagesDir = FindImagesDir(filepath.Dir(opts.Files[0]))
	}
	name := opts.Name
	if name == "" {
		base := filepath.Base(opts.Files[0])
		name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create output folder: %w", err)
	}
	epoch, err := assemble.SourceDateEpoch()
	if err != nil {
		return "", err
	}
	src := &Source{
		ImagesDir: imagesDir,
		Store:     opts.Store,
		Resolver:  &ocistore.Resolver{Store: opts.Store, Offline: opts.Offline},
		Recipe:    opts.Recipe,
	}
	base := filepath.Join(dir, name)
	err = assemble.BuildOutputs(ctx, cfg, src, base, formats, outs,
		assemble.Options{ModTime: epoch, Logger: opts.Logger},
		assemble.OutputOptions{ModTime: epoch, Compression: opts.Compression})
	if err != nil {
		return "", err
	}
	return base, nil
}

// FindImagesDir returns the images/ folder (one holding recipes) in dir or
// the nearest folder above it, or "" when there is none.
func FindImagesDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		cand := filepath.Join(abs, "images")
		if m, _ := filepath.Glob(filepath.Join(cand, "*", recipe.FileName)); len(m) > 0 {
			return cand
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
	}
}
