package assemble

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/ros-os/ros/pkg/buildfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var errNotFound = errors.New("not found in the test image source")

// fakeSource serves in-memory images by canonical reference.
type fakeSource struct {
	images map[string]v1.Image
	asked  []string
}

func (s *fakeSource) Image(_ context.Context, ref string) (v1.Image, error) {
	s.asked = append(s.asked, ref)
	img, ok := s.images[ref]
	if !ok {
		return nil, fmt.Errorf("%s: %w", ref, errNotFound)
	}
	return img, nil
}

// fe is a file in a fake layer.
type fe struct {
	name string
	typ  byte // 0 = regular file
	mode int64
	data string
	link string
	uid  int
}

func dir(name string) fe        { return fe{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, data string) fe { return fe{name: name, typ: tar.TypeReg, mode: 0o644, data: data} }
func exe(name, data string) fe  { return fe{name: name, typ: tar.TypeReg, mode: 0o755, data: data} }
func hardlink(name, target string) fe {
	return fe{name: name, typ: tar.TypeLink, mode: 0o755, link: target}
}

// layerTar makes an uncompressed tar of entries, with fixed times.
func layerTar(t testing.TB, entries ...fe) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: e.mode, Linkname: e.link, Uid: e.uid, Gid: e.uid,
			ModTime: time.Unix(1600000000, 0), Uname: "someone", Gname: "somegroup"}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeImage builds an image from layers (lowest first) with an image
// config and, when label is not empty, the org.mobyproject.config label.
func fakeImage(t testing.TB, label string, cfg v1.Config, layers ...[]byte) v1.Image {
	t.Helper()
	img := empty.Image
	for _, l := range layers {
		data := l
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			t.Fatal(err)
		}
	}
	if label != "" {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[buildfile.LabelKey] = label
	}
	img, err := mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// kernelImage is a LinuxKit-style kernel image: /kernel and /kernel.tar.
func kernelImage(t testing.TB, extra ...fe) v1.Image {
	ktar := layerTar(t,
		dir("lib"), dir("lib/modules"), dir("lib/modules/6.1.0"),
		file("lib/modules/6.1.0/modules.dep", "kernel/fs/squashfs.ko:\n"),
		dir("lib/modules/6.1.0/kernel"), dir("lib/modules/6.1.0/kernel/fs"),
		file("lib/modules/6.1.0/kernel/fs/squashfs.ko", "ELF squashfs"),
	)
	entries := append([]fe{file("kernel", "bzImage bytes"), file("kernel.tar", string(ktar))}, extra...)
	return fakeImage(t, "", v1.Config{}, layerTar(t, entries...))
}

// parse parses a build file given as text, named name.
func parse(t testing.TB, name, yml string) *buildfile.Config {
	t.Helper()
	cfg, err := buildfile.Parse(name, []byte(yml))
	if err != nil {
		t.Fatalf("Parse(%s) = %v", name, err)
	}
	return cfg
}

// build runs Build and returns the tar.
func build(t testing.TB, cfg *buildfile.Config, src ImageSource) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Build(context.Background(), cfg, src, &buf, Options{ModTime: time.Unix(1700000000, 0)}); err != nil {
		t.Fatalf("Build() = %v", err)
	}
	return buf.Bytes()
}

// describe renders a tar as text: one line per entry (type, mode, owner,
// name, link target or size and hash), then the contents of small text
// files (config.json, runtime.json, files entries ...).
func describe(t testing.TB, tarball []byte) string {
	t.Helper()
	var list, bodies strings.Builder
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&list, "%c %04o %d:%d %s", h.Typeflag, h.Mode, h.Uid, h.Gid, h.Name)
		switch h.Typeflag {
		case tar.TypeSymlink:
			fmt.Fprintf(&list, " -> %s", h.Linkname)
		case tar.TypeLink:
			fmt.Fprintf(&list, " link to %s", h.Linkname)
		case tar.TypeReg:
			fmt.Fprintf(&list, " %d %x", len(data), sha256.Sum256(data))
			if len(data) > 0 && len(data) <= 4096 && utf8.Valid(data) && !bytes.Contains(data, []byte{0}) {
				fmt.Fprintf(&bodies, "=== %s\n%s", h.Name, data)
				if !bytes.HasSuffix(data, []byte("\n")) {
					bodies.WriteString("\n")
				}
			}
		}
		if h.ModTime.Unix() != 1700000000 {
			fmt.Fprintf(&list, " mtime=%d", h.ModTime.Unix())
		}
		list.WriteString("\n")
	}
	return list.String() + bodies.String()
}

// golden compares got with testdata/name.golden, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("Build(%s) differs from %s (go test -update rewrites it):\n%s", name, p, diff(string(want), got))
	}
}

// diff shows the first differing lines.
func diff(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			if n++; n >= 10 {
				break
			}
		}
	}
	return b.String()
}
