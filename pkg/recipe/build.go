package recipe

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ros-os/ros/pkg/debpkg"
	"github.com/ros-os/ros/pkg/layer"
	"github.com/ros-os/ros/pkg/ocistore"
)

// builderVersion is part of every content tag: bump it when a change here
// changes what a recipe builds into.
const builderVersion = "ros-recipe-1"

// Options tune a build. The zero value builds with the defaults.
type Options struct {
	// ModuleDir is the Go module root `go:` packages are relative to;
	// default: the nearest directory with go.mod above the recipe.
	ModuleDir string
	// CacheDir holds the apt cache (CacheDir/apt); default ocistore.CacheDir().
	CacheDir string
	// WorkDir is where temporary trees are staged; default os.TempDir().
	WorkDir string
	// Epoch is every file's mtime and the image's created time; zero means
	// $SOURCE_DATE_EPOCH, or 1970-01-01 when that is unset.
	Epoch time.Time
	// Force rebuilds even when the store has the content tag.
	Force bool
	// Sources override the recipe's apt sources (e.g. a local mirror).
	Sources []string
	// Offline builds from the apt cache only (no apt-get update, no
	// downloads); it fails when a package is not cached.
	Offline bool
	// Logger gets progress; nil discards it.
	Logger *slog.Logger
	// Output gets mmdebstrap and go build output; nil discards it.
	Output io.Writer
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (o *Options) epoch() (time.Time, error) {
	if !o.Epoch.IsZero() {
		return o.Epoch.UTC(), nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}

// Name returns the image name of a recipe folder (its base name).
func Name(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return filepath.Base(abs), nil
}

// Ref returns the store reference of recipe NAME at tag: docker.io/ros/NAME:TAG.
func Ref(name, tag string) string { return ocistore.ComponentRepo + name + ":" + tag }

// DirFor returns the recipe folder for a component image reference
// (ros/NAME[:tag] -> imagesDir/NAME) and whether ref is a component image
// with a recipe there.
func DirFor(imagesDir, ref string) (string, bool) {
	n, ok := ocistore.ComponentName(ref)
	if !ok {
		return "", false
	}
	dir := filepath.Join(imagesDir, n)
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		return "", false
	}
	return dir, true
}

// prepared is a recipe with its Go programs compiled and its tag known.
type prepared struct {
	r     *Recipe
	name  string
	dir   string
	work  string
	bins  []string
	tag   string
	epoch time.Time
}

func prepare(ctx context.Context, dir string, opts *Options) (*prepared, error) {
	r, err := Load(dir)
	if err != nil {
		return nil, err
	}
	name, err := Name(dir)
	if err != nil {
		return nil, err
	}
	epoch, err := opts.epoch()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(opts.WorkDir, "ros-image-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", name, err)
	}
	p := &prepared{r: r, name: name, dir: dir, work: work, epoch: epoch}
	if len(r.Go) > 0 {
		mod := opts.ModuleDir
		if mod == "" {
			if mod, err = moduleRoot(dir); err != nil {
				p.cleanup()
				return nil, err
			}
		}
		gobin := filepath.Join(work, "go")
		if err := os.Mkdir(gobin, 0o755); err != nil {
			p.cleanup()
			return nil, err
		}
		opts.logger().Info("compile Go programs", "image", name, "count", len(r.Go))
		if p.bins, err = compileGo(ctx, mod, gobin, r.Go, opts.Output); err != nil {
			p.cleanup()
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
	}
	if p.tag, err = contentTag(dir, name, epoch, r, p.bins); err != nil {
		p.cleanup()
		return nil, err
	}
	return p, nil
}

func (p *prepared) cleanup() { os.RemoveAll(p.work) }

// contentTag hashes everything a build depends on that ros controls: the
// builder version, name, epoch, every file of the recipe folder and the
// compiled Go programs. Debian package versions are not part of it: pin
// them in the recipe (pkg=version) to make a package update rebuild.
func contentTag(dir, name string, epoch time.Time, r *Recipe, bins []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00", builderVersion, name, epoch.Unix())
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash recipe %s: %w", dir, err)
	}
	sort.Strings(files)
	hashFile := func(label, p string) error {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", label, st.Mode().Perm()&0o111, st.Size())
		_, err = io.Copy(h, f)
		return err
	}
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		if err := hashFile("file:"+filepath.ToSlash(rel), p); err != nil {
			return "", fmt.Errorf("hash recipe %s: %w", dir, err)
		}
	}
	for i, b := range bins {
		if err := hashFile("go:"+r.Go[i].Output, b); err != nil {
			return "", fmt.Errorf("hash recipe %s: %w", dir, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ContentTag returns the tag Build would store the recipe in dir under
// (compiling its Go programs, which the go build cache makes cheap).
func ContentTag(ctx context.Context, dir string, opts Options) (string, error) {
	p, err := prepare(ctx, dir, &opts)
	if err != nil {
		return "", err
	}
	defer p.cleanup()
	return p.tag, nil
}

// Build builds the recipe in dir into store as docker.io/ros/NAME:TAG
// (NAME the folder name, TAG the content tag) and returns that reference
// and the manifest digest. When the store already has the reference it is
// returned without building, unless opts.Force.
func Build(ctx context.Context, dir string, store *ocistore.Store, opts Options) (string, v1.Hash, error) {
	log := opts.logger()
	p, err := prepare(ctx, dir, &opts)
	if err != nil {
		return "", v1.Hash{}, err
	}
	defer p.cleanup()
	ref := Ref(p.name, p.tag)
	if !opts.Force {
		img, err := store.Image(ctx, ref)
		if err == nil {
			d, err := img.Digest()
			if err != nil {
				return "", v1.Hash{}, err
			}
			log.Info("image up to date", "ref", ref, "digest", d)
			return ref, d, nil
		}
		if !errors.Is(err, ocistore.ErrNotFound) {
			return "", v1.Hash{}, err
		}
	}
	log.Info("build image", "ref", ref)
	tree, err := p.tree(ctx, &opts)
	if err != nil {
		return "", v1.Hash{}, fmt.Errorf("build %s: %w", p.name, err)
	}
	img, err := makeImage(tree, p.r, p.name, p.epoch, p.work)
	if err != nil {
		return "", v1.Hash{}, fmt.Errorf("build %s: %w", p.name, err)
	}
	if err := store.Put(ctx, ref, img); err != nil {
		return "", v1.Hash{}, fmt.Errorf("build %s: %w", p.name, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", v1.Hash{}, err
	}
	size, _ := img.Manifest()
	var layerSize int64
	if size != nil && len(size.Layers) > 0 {
		layerSize = size.Layers[0].Size
	}
	log.Info("built image", "ref", ref, "digest", d, "files", tree.Len(), "bytes", tree.ContentSize(), "compressed", layerSize)
	return ref, d, nil
}

// tree produces the image's filesystem.
func (p *prepared) tree(ctx context.Context, opts *Options) (*layer.Tree, error) {
	log := opts.logger()
	r := p.r
	t := layer.NewTree()
	if len(r.Packages) > 0 {
		cache := opts.CacheDir
		if cache == "" {
			c, err := ocistore.CacheDir()
			if err != nil {
				return nil, err
			}
			cache = c
		}
		sources := opts.Sources
		if len(sources) == 0 {
			sources = r.Sources
		}
		out := filepath.Join(p.work, "packages.tar")
		log.Info("unpack Debian packages", "image", p.name, "packages", strings.Join(r.Packages, " "))
		err := debpkg.Extract(ctx, debpkg.Options{
			Suite: r.Suite, Packages: r.Packages, Sources: sources,
			CacheDir: filepath.Join(cache, "apt"), Log: opts.Output, Offline: opts.Offline,
		}, out)
		if err != nil {
			return nil, err
		}
		stage := filepath.Join(p.work, "stage")
		if err := os.Mkdir(stage, 0o755); err != nil {
			return nil, err
		}
		f, err := os.Open(out)
		if err != nil {
			return nil, err
		}
		err = t.ReadTar(f, stage, func(q string) bool { return matchAny(extractLeftovers, q) })
		f.Close()
		if err != nil {
			return nil, err
		}
		os.Remove(out)
	}
	if r.Kernel != nil {
		allow, err := os.ReadFile(filepath.Join(p.dir, r.Kernel.Allowlist))
		if err != nil {
			return nil, err
		}
		kt, info, err := kernelTree(ctx, t, allow, p.work, p.epoch)
		if err != nil {
			return nil, err
		}
		log.Info("kernel", "version", info.Version, "modules", info.Modules, "modulesBytes", info.ModulesSize, "kernelBytes", info.KernelSize)
		t = kt
	}
	protected := map[string]bool{}
	for i, g := range r.Go {
		st, err := os.Stat(p.bins[i])
		if err != nil {
			return nil, err
		}
		e := &layer.Entry{Path: g.Output, Type: tar.TypeReg, Mode: 0o755, Source: p.bins[i], Size: st.Size()}
		if err := t.Add(e); err != nil {
			return nil, err
		}
		protected[e.Path] = true
	}
	for i := range r.Files {
		e, err := p.fileEntry(t, &r.Files[i])
		if err != nil {
			return nil, err
		}
		if err := t.Add(e); err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		protected[e.Path] = true
	}
	if err := applyKeep(t, r.Keep, protected, log); err != nil {
		return nil, err
	}
	applyPrune(t, append(append([]string(nil), defaultPrune...), r.Prune...), protected)
	dropEmptyDirs(t, protected, r.Keep)
	return t, nil
}

// fileEntry turns a recipe file into a tree entry.
func (p *prepared) fileEntry(t *layer.Tree, f *File) (*layer.Entry, error) {
	e := &layer.Entry{Path: f.Path, UID: f.UID, GID: f.GID}
	switch {
	case f.Source != "":
		src := filepath.Join(p.dir, f.Source)
		st, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("files: %s: %w", f.Path, err)
		}
		def := int64(0o644)
		if st.Mode().Perm()&0o111 != 0 {
			def = 0o755
		}
		e.Type, e.Source, e.Size, e.Mode = tar.TypeReg, src, st.Size(), f.mode(def)
	case f.Contents != nil:
		e.Type, e.Data, e.Size, e.Mode = tar.TypeReg, []byte(*f.Contents), int64(len(*f.Contents)), f.mode(0o644)
	case f.Directory:
		e.Type, e.Mode = tar.TypeDir, f.mode(0o755)
	case f.Symlink != "":
		e.Type, e.Linkname, e.Mode = tar.TypeSymlink, f.Symlink, 0o777
	case len(f.Concat) > 0:
		var data []byte
		n := 0
		for _, q := range t.Paths() {
			src, _ := t.Get(q)
			if src.Type != tar.TypeReg || !matchAny(f.Concat, q) {
				continue
			}
			b, err := src.ReadAll()
			if err != nil {
				return nil, err
			}
			data = append(data, b...)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				data = append(data, '\n')
			}
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("files: %s: concat: no package file matches %v", f.Path, f.Concat)
		}
		e.Type, e.Data, e.Size, e.Mode = tar.TypeReg, data, int64(len(data)), f.mode(0o644)
	}
	return e, nil
}
