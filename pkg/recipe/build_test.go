package recipe

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ros-os/ros/pkg/ocistore"
)

func needMmdebstrap(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("image build: skipped under -short")
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("needs mmdebstrap")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (mmdebstrap root mode)")
	}
}

// layerFiles reads the single layer of img into name -> header and content.
func layerFiles(t *testing.T, img v1.Image) (map[string]*tar.Header, map[string][]byte, []string) {
	t.Helper()
	ls, err := img.Layers()
	if err != nil || len(ls) != 1 {
		t.Fatalf("Layers() = %d layers, %v; want 1", len(ls), err)
	}
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hdrs, data := map[string]*tar.Header{}, map[string][]byte{}
	var order []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n := strings.TrimSuffix(h.Name, "/")
		hdrs[n] = h
		order = append(order, h.Name)
		if h.Typeflag == tar.TypeReg {
			data[n], _ = io.ReadAll(tr)
		}
	}
	return hdrs, data, order
}

func TestBuildReproducible(t *testing.T) {
	needMmdebstrap(t)
	ctx := context.Background()
	store, err := ocistore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	opts := Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), Epoch: time.Unix(1700000000, 0)}
	dir := "testdata/recipes/tiny"
	ref1, d1, err := Build(ctx, dir, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref1, "docker.io/ros/tiny:") || len(ref1) != len("docker.io/ros/tiny:")+12 {
		t.Errorf("Build() ref = %s, want docker.io/ros/tiny:<12 hex>", ref1)
	}
	// Unchanged recipe: not rebuilt.
	logBuf.Reset()
	ref2, d2, err := Build(ctx, dir, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ref2 != ref1 || d2 != d1 || !strings.Contains(logBuf.String(), "image up to date") {
		t.Errorf("second Build() = %s %s (log %q), want %s %s from the store", ref2, d2, logBuf.String(), ref1, d1)
	}
	// Forced rebuild from scratch: same bytes.
	opts.Force = true
	ref3, d3, err := Build(ctx, dir, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ref3 != ref1 || d3 != d1 {
		t.Errorf("forced Build() = %s %s, want %s %s (reproducible)", ref3, d3, ref1, d1)
	}

	img, err := store.Image(ctx, ref1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("config created = %v, want the epoch", cf.Created.Time)
	}
	if got := cf.Config.Labels[MobyConfigLabel]; got != `{"capabilities":["CAP_SYS_ADMIN"],"pid":"host"}` {
		t.Errorf("label %s = %q", MobyConfigLabel, got)
	}
	if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/usr/bin/tiny" {
		t.Errorf("entrypoint = %v, want [/usr/bin/tiny]", cf.Config.Entrypoint)
	}

	hdrs, data, order := layerFiles(t, img)
	for _, want := range []string{"usr/bin/hello", "usr/bin/tiny", "lib/x86_64-linux-gnu/libc.so.6", "lib64/ld-linux-x86-64.so.2", "etc/motd", "etc/tiny.conf", "var/lib/tiny", "sbin/init"} {
		if hdrs[want] == nil {
			t.Errorf("layer lacks %s", want)
		}
	}
	for n, h := range hdrs {
		if strings.HasPrefix(n, "usr/share/doc") || strings.HasPrefix(n, "var/lib/dpkg") || strings.HasPrefix(n, "etc/apt") || strings.HasPrefix(n, "dev") {
			t.Errorf("layer holds %s, want it pruned", n)
		}
		if !h.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s mtime = %v, want the epoch", n, h.ModTime)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s owner = %d:%d, want 0:0", n, h.Uid, h.Gid)
		}
	}
	if h := hdrs["etc/tiny.conf"]; h != nil && h.Mode != 0o600 {
		t.Errorf("etc/tiny.conf mode = %o, want 600", h.Mode)
	}
	if h := hdrs["sbin/init"]; h != nil && h.Linkname != "/usr/bin/tiny" {
		t.Errorf("sbin/init -> %s, want /usr/bin/tiny", h.Linkname)
	}
	for i := 1; i < len(order); i++ {
		if !lessPath(strings.TrimSuffix(order[i-1], "/"), strings.TrimSuffix(order[i], "/")) {
			t.Errorf("layer entries not sorted: %s before %s", order[i-1], order[i])
		}
	}

	// The unpacked program runs with the image's own loader and libc.
	root := t.TempDir()
	for _, n := range []string{"usr/bin/hello", "usr/bin/tiny", "lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"} {
		p := filepath.Join(root, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data[n], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(filepath.Join(root, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), "--library-path", filepath.Join(root, "lib/x86_64-linux-gnu"), filepath.Join(root, "usr/bin/hello")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Hello, world!") {
		t.Errorf("image's hello = %q, %v, want Hello, world!", out, err)
	}
	out, err = exec.Command(filepath.Join(root, "usr/bin/tiny")).CombinedOutput()
	if err != nil || string(out) != "hello from ros\n" {
		t.Errorf("image's tiny = %q, %v, want the Go program's output", out, err)
	}
}

func lessPath(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}
