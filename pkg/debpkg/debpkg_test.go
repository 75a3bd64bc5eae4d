package debpkg

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExtractCachesPackages unpacks a small package, then again offline
// with the network made unusable: the second run must work from the
// cache alone.
func TestExtractCachesPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mmdebstrap: skipped under -short")
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("needs mmdebstrap")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	ctx := context.Background()
	cache := t.TempDir()
	o := Options{Packages: []string{"hello"}, CacheDir: cache, Sources: []string{"deb http://deb.debian.org/debian bookworm main"}}
	if err := Extract(ctx, Options{Packages: []string{"hello"}, CacheDir: t.TempDir(), Offline: true}, filepath.Join(t.TempDir(), "x.tar")); err == nil || !strings.Contains(err.Error(), "no cached apt lists") {
		t.Errorf("Extract(offline, empty cache) = %v, want a no-cached-lists error", err)
	}
	first := filepath.Join(t.TempDir(), "first.tar")
	if err := Extract(ctx, o, first); err != nil {
		t.Fatal(err)
	}
	debs, _ := filepath.Glob(filepath.Join(cache, "archives", "hello_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("cache holds %v, want one hello .deb", debs)
	}
	t.Setenv("http_proxy", "http://127.0.0.1:9") // nothing listens: any download fails
	o.Offline = true
	second := filepath.Join(t.TempDir(), "second.tar")
	if err := Extract(ctx, o, second); err != nil {
		t.Fatalf("offline Extract from cache = %v", err)
	}
	for _, p := range []string{first, second} {
		if !tarHas(t, p, "usr/bin/hello") {
			t.Errorf("%s lacks usr/bin/hello", p)
		}
	}
}

func tarHas(t *testing.T, p, name string) bool {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			return true
		}
	}
}
