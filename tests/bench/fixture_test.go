package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/ocistore"
	"github.com/ros-os/ros/pkg/osbuild"
	"github.com/ros-os/ros/pkg/osimage"
	"github.com/ros-os/ros/pkg/recipe"
	"github.com/ros-os/ros/pkg/sshcheck"
)

// The OS descriptions measured, relative to this package.
const (
	rosYML    = "../../yml/ros.yml"
	dockerYML = "../../yml/docker.yml"
	imagesDir = "../../images"
)

// buildTimeout bounds one OS build, cold store included.
const buildTimeout = 45 * time.Minute

// mb is bytes in (decimal) megabytes, as the README writes sizes.
func mb(n int64) float64 { return float64(n) / 1e6 }

// requireBuild skips b under -short or when a build tool is missing.
func requireBuild(b *testing.B) {
	b.Helper()
	if testing.Short() {
		b.Skip("builds images: skipped under -short")
	}
	for _, tool := range []string{"mmdebstrap", "mksquashfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("needs %s (apt-get install %s)", tool, map[string]string{
				"mmdebstrap": "mmdebstrap", "mksquashfs": "squashfs-tools"}[tool])
		}
	}
}

// cacheDir returns the ros cache (~/.cache/ros or $ROS_CACHE).
func cacheDir(b *testing.B) string {
	b.Helper()
	dir, err := ocistore.CacheDir()
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// defaultStore opens the user's image store, CacheDir/oci.
func defaultStore(b *testing.B) *ocistore.Store {
	b.Helper()
	s, err := ocistore.Open(filepath.Join(cacheDir(b), "oci"))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// logger shows warnings only, so that benchmark output stays a report.
func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// buildSpec is one OS build.
type buildSpec struct {
	files   []string
	formats []string
	dir     string
	name    string
	store   *ocistore.Store
	recipe  recipe.Options
	comp    string // squashfs compressor; "" = xz
}

// build runs spec through osbuild.Build with ros's boot formats plus
// "payload" (NAME-rootfs.squashfs, the payload exactly as the ISO and
// disk slots carry it) and returns the output base path.
func build(ctx context.Context, spec buildSpec) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	log := logger()
	outs := assemble.DefaultOutputs()
	cleanup := osimage.Formats(outs, osimage.Options{Logger: log})
	defer cleanup()
	outs["payload"] = writePayload
	return osbuild.Build(ctx, osbuild.Options{
		Files:       spec.files,
		Formats:     spec.formats,
		Dir:         spec.dir,
		Name:        spec.name,
		ImagesDir:   imagesDir,
		Store:       spec.store,
		Outputs:     outs,
		Recipe:      spec.recipe,
		Compression: spec.comp,
		Logger:      log,
	})
}

// writePayload is an output format: the ros payload squashfs at
// base-rootfs.squashfs.
func writePayload(ctx context.Context, base string, tree io.Reader, oo assemble.OutputOptions) error {
	tmp, err := os.MkdirTemp(oo.TempDir, "ros-bench-payload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p, err := osimage.BuildPayload(ctx, tree, base+"-rootfs.squashfs", osimage.PayloadOptions{
		Compression: oo.Compression, ModTime: oo.ModTime, TempDir: tmp,
	})
	if err != nil {
		return err
	}
	return p.Close()
}

// fileSize returns the size of path in bytes.
func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// bootImages are yml/ros.yml plus an SSH key for the ros user, as ISO and
// raw disk (zstd root), and as a raw disk with an xz root, built once per run into
// CacheDir/bench.
type bootImages struct {
	base string // base.iso, base.raw
	xz   string // xz.raw
	key  []byte // private key whose public half is in /home/ros/.ssh
	err  error
}

var (
	bootOnce  sync.Once
	bootBuilt bootImages
)

// images returns the boot images, building them on first use.
func images(b *testing.B) bootImages {
	b.Helper()
	requireBuild(b)
	bootOnce.Do(func() { bootBuilt = buildBootImages(cacheDir(b), defaultStore(b)) })
	if bootBuilt.err != nil {
		b.Fatalf("build boot images: %v", bootBuilt.err)
	}
	return bootBuilt
}

func buildBootImages(cache string, store *ocistore.Store) bootImages {
	dir := filepath.Join(cache, "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return bootImages{err: err}
	}
	key, layer, err := sshcheck.KeyLayer(dir, "ssh.yml", "ros-bench")
	if err != nil {
		return bootImages{err: err}
	}
	base, err := build(context.Background(), buildSpec{
		files:   []string{rosYML, layer},
		formats: []string{"iso", "raw"},
		dir:     dir,
		name:    "ros-bench",
		store:   store,
	})
	if err != nil {
		return bootImages{err: err}
	}
	xz, err := build(context.Background(), buildSpec{
		files:   []string{rosYML, layer},
		formats: []string{"raw"},
		dir:     dir,
		name:    "ros-bench-xz",
		store:   store,
		comp:    "xz",
	})
	return bootImages{base: base, xz: xz, key: key, err: err}
}

// hostLoad describes how busy the host is (the 1-minute load average and
// the CPU count), since every time here depends on it.
func hostLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%s on %d CPUs", f[0], runtime.NumCPU())
}
