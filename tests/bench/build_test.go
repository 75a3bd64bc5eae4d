package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/ocistore"
	"github.com/ros-os/ros/pkg/recipe"
)

// BenchmarkBuildWarm times `ros build yml/ros.yml` with every component
// image already in the store: the everyday rebuild (goal: under 10 s), to
// kernel+squashfs and, to separate assembly from squashfs compression, to
// a plain tar. An untimed first build fills the store if needed.
func BenchmarkBuildWarm(b *testing.B) {
	requireBuild(b)
	store := defaultStore(b)
	for _, format := range []string{"kernel+squashfs", "tar"} {
		b.Run(format, func(b *testing.B) {
			spec := buildSpec{
				files:   []string{rosYML},
				formats: []string{format},
				dir:     b.TempDir(),
				name:    "warm",
				store:   store,
			}
			if _, err := build(b.Context(), spec); err != nil {
				b.Fatalf("warm-up build: %v", err)
			}
			load := hostLoad()
			b.ResetTimer()
			var took time.Duration
			var base string
			for range b.N {
				start := time.Now()
				var err error
				if base, err = build(b.Context(), spec); err != nil {
					b.Fatal(err)
				}
				took += time.Since(start)
			}
			b.StopTimer()
			secs := took.Seconds() / float64(b.N)
			b.ReportMetric(secs, "build-s")
			out := base + ".tar"
			if format == "kernel+squashfs" {
				out = base + "-squashfs.img"
			}
			b.Logf("warm build of yml/ros.yml to %s: %.1f s (goal < 10 s); %s %.1f MB; host load %s",
				format, secs, filepath.Base(out), mb(fileSize(b, out)), load)
		})
	}
}

// BenchmarkBuildCold times the same build with a new, empty image store,
// so every component image is built from its recipe. The apt .deb cache
// (CacheDir/apt) and Go's build cache stay warm: this is a clean checkout
// on a machine that has built before, not a first run offline.
func BenchmarkBuildCold(b *testing.B) {
	requireBuild(b)
	cache := cacheDir(b)
	var took time.Duration
	var steps *stepTimer
	var built int
	for range b.N {
		b.StopTimer()
		store, err := ocistore.Open(filepath.Join(b.TempDir(), "oci"))
		if err != nil {
			b.Fatal(err)
		}
		steps = &stepTimer{}
		spec := buildSpec{
			files:   []string{rosYML},
			formats: []string{"kernel+squashfs"},
			dir:     b.TempDir(),
			name:    "cold",
			store:   store,
			recipe:  recipe.Options{CacheDir: cache, Logger: slog.New(steps)},
		}
		b.StartTimer()
		start := time.Now()
		if _, err := build(b.Context(), spec); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		b.StopTimer()
		list, err := store.List()
		if err != nil {
			b.Fatal(err)
		}
		built = len(list)
	}
	secs := took.Seconds() / float64(b.N)
	b.ReportMetric(secs, "build-s")
	b.ReportMetric(float64(built), "images")
	b.Logf("cold build of yml/ros.yml (empty store, warm apt cache): %.1f s, %d images built; host load %s\n%s",
		secs, built, hostLoad(), steps.summary())
}

// BenchmarkImageSizes reports each component image's size from the store:
// NAME-MB is the uncompressed layers, NAME-gz-MB the stored (gzip) layers.
// Images missing from the store are built first.
func BenchmarkImageSizes(b *testing.B) {
	requireBuild(b)
	store := defaultStore(b)
	recipes, err := filepath.Glob(filepath.Join(imagesDir, "*", recipe.FileName))
	if err != nil || len(recipes) == 0 {
		b.Fatalf("no recipes under %s (%v)", imagesDir, err)
	}
	type size struct {
		name        string
		ref         string
		raw, packed int64
	}
	var sizes []size
	for range b.N {
		sizes = sizes[:0]
		for _, r := range recipes {
			dir := filepath.Dir(r)
			ref, _, err := recipe.Build(b.Context(), dir, store, recipe.Options{Logger: logger()})
			if err != nil {
				b.Fatalf("recipe.Build(%s) = %v", dir, err)
			}
			raw, packed, err := imageSize(b.Context(), store, ref)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, size{filepath.Base(dir), ref, raw, packed})
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "component images (MB = 10^6 bytes, uncompressed / gzip):")
	for _, s := range sizes {
		b.ReportMetric(mb(s.raw), s.name+"-MB")
		b.ReportMetric(mb(s.packed), s.name+"-gz-MB")
		fmt.Fprintf(&sb, "\n  %-11s %7.1f / %6.1f  %s", s.name, mb(s.raw), mb(s.packed), s.ref)
	}
	b.Log(sb.String())
}

// imageSize sums an image's layers: uncompressed (by reading them) and as
// stored.
func imageSize(ctx context.Context, store *ocistore.Store, ref string) (raw, packed int64, err error) {
	img, err := store.Image(ctx, ref)
	if err != nil {
		return 0, 0, err
	}
	layers, err := img.Layers()
	if err != nil {
		return 0, 0, fmt.Errorf("layers of %s: %w", ref, err)
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, 0, fmt.Errorf("layer size of %s: %w", ref, err)
		}
		packed += n
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, 0, fmt.Errorf("read layer of %s: %w", ref, err)
		}
		n, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("read layer of %s: %w", ref, err)
		}
		raw += n
	}
	return raw, packed, nil
}

// BenchmarkPayloadSize reports the payload (boot and zstd root squashfs,
// as the ISO and each disk slot carry it) of yml/ros.yml and of
// yml/ros.yml + yml/docker.yml, and the hybrid ISO of yml/ros.yml; then the
// payload and ISO of yml/ros.yml built with --compression xz.
func BenchmarkPayloadSize(b *testing.B) {
	requireBuild(b)
	store := defaultStore(b)
	dir := b.TempDir()
	var ros, docker, iso, rosXZ, isoXZ int64
	var rosTook, dockerTook time.Duration
	for range b.N {
		start := time.Now()
		base, err := build(b.Context(), buildSpec{
			files: []string{rosYML}, formats: []string{"payload", "iso"},
			dir: dir, name: "ros", store: store,
		})
		if err != nil {
			b.Fatal(err)
		}
		rosTook = time.Since(start)
		ros, iso = fileSize(b, base+"-rootfs.squashfs"), fileSize(b, base+".iso")
		start = time.Now()
		base, err = build(b.Context(), buildSpec{
			files: []string{rosYML, dockerYML}, formats: []string{"payload"},
			dir: dir, name: "ros-docker", store: store,
		})
		if err != nil {
			b.Fatal(err)
		}
		dockerTook = time.Since(start)
		docker = fileSize(b, base+"-rootfs.squashfs")
		base, err = build(b.Context(), buildSpec{
			files: []string{rosYML}, formats: []string{"payload", "iso"},
			dir: dir, name: "ros-xz", store: store, comp: "xz",
		})
		if err != nil {
			b.Fatal(err)
		}
		rosXZ, isoXZ = fileSize(b, base+"-rootfs.squashfs"), fileSize(b, base+".iso")
	}
	b.ReportMetric(mb(ros), "squashfs-MB")
	b.ReportMetric(mb(docker), "squashfs-docker-MB")
	b.ReportMetric(mb(iso), "iso-MB")
	b.ReportMetric(mb(rosXZ), "squashfs-xz-MB")
	b.ReportMetric(mb(isoXZ), "iso-xz-MB")
	b.Logf("payload (zstd root): yml/ros.yml %.1f MB, + yml/docker.yml %.1f MB; ISO %.1f MB"+
		" (payload+iso build %.1f s, docker payload build %.1f s; host load %s);"+
		" with --compression xz: payload %.1f MB, ISO %.1f MB",
		mb(ros), mb(docker), mb(iso), rosTook.Seconds(), dockerTook.Seconds(), hostLoad(), mb(rosXZ), mb(isoXZ))
}

// stepTimer is a slog.Handler that times each component image build from
// recipe's "build image" to its "built image" record.
type stepTimer struct {
	mu    sync.Mutex
	start map[string]time.Time
	took  map[string]time.Duration
}

func (s *stepTimer) Enabled(context.Context, slog.Level) bool { return true }
func (s *stepTimer) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *stepTimer) WithGroup(string) slog.Handler            { return s }

func (s *stepTimer) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "build image" && r.Message != "built image" {
		return nil
	}
	var ref string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "ref" {
			ref = a.Value.String()
			return false
		}
		return true
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.start == nil {
		s.start, s.took = map[string]time.Time{}, map[string]time.Duration{}
	}
	if r.Message == "build image" {
		s.start[ref] = r.Time
	} else if t, ok := s.start[ref]; ok {
		s.took[ref] = r.Time.Sub(t)
	}
	return nil
}

// summary lists the image build times, slowest first.
func (s *stepTimer) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	refs := make([]string, 0, len(s.took))
	for r := range s.took {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return s.took[refs[i]] > s.took[refs[j]] })
	var sb strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&sb, "  %-40s %6.1f s\n", r, s.took[r].Seconds())
	}
	return strings.TrimRight(sb.String(), "\n")
}
