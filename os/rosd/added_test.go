package rosd

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/cloudconfig"
)

func TestParseServiceDefinition(t *testing.T) {
	tests := []struct {
		name, def, wantName, wantErr string
	}{
		{"entry", "name: hello\nimage: example.org/hello:1\ncommand: [/bin/hello]\n", "hello", ""},
		{"whole file", "services:\n  - name: web\n    image: example.org/web:1\n", "web", ""},
		{"unknown key", "name: hello\nimage: example.org/hello:1\ncomand: [/x]\n", "", "comand"},
		{"no image", "name: hello\n", "", "image"},
		{"two services", "services:\n  - {name: a, image: x/a:1}\n  - {name: b, image: x/b:1}\n", "", "want one service"},
		{"not yaml", "name: [\n", "", "hello.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseServiceDefinition("hello.yml", []byte(tt.def))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseServiceDefinition(%q) error = %v, want one containing %q", tt.def, err, tt.wantErr)
				}
				return
			}
			if err != nil || e.Name != tt.wantName {
				t.Fatalf("parseServiceDefinition(%q) = %+v, %v, want name %q", tt.def, e, err, tt.wantName)
			}
		})
	}
}

// testImageArchive writes a docker-save archive of an image tagged ref
// whose one layer holds the given files.
func testImageArchive(t *testing.T, ref string, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for p, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Cmd: []string{"/bin/hello"}, Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "img.tar")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInstallService(t *testing.T) {
	archive := testImageArchive(t, "example.org/hello:1", map[string]string{"bin/hello": "#!/bin/sh\necho hi\n"})
	root := t.TempDir()
	data := filepath.Join(root, "var", "lib", "ros")
	d := &daemon{opts: Options{Root: root, DataDir: data}, log: slog.New(slog.DiscardHandler)}
	entry, err := parseServiceDefinition("hello.yml", []byte("name: hello\nimage: example.org/hello:1\nenv: [GREETING=hi]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.installService(context.Background(), entry, archive); err != nil {
		t.Fatalf("installService: %v", err)
	}
	bundle := filepath.Join(data, "services", "hello")
	if b, err := os.ReadFile(filepath.Join(bundle, "lower", "bin", "hello")); err != nil || !strings.Contains(string(b), "echo hi") {
		t.Errorf("lower/bin/hello = %q, %v, want the image's file", b, err)
	}
	raw, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(spec.Process.Args, " "); got != "/bin/hello" {
		t.Errorf("config.json args = %q, want the image's Cmd /bin/hello", got)
	}
	if !strings.Contains(strings.Join(spec.Process.Env, " "), "GREETING=hi") {
		t.Errorf("config.json env = %v, want GREETING=hi from the entry", spec.Process.Env)
	}
	rt, err := os.ReadFile(filepath.Join(bundle, "runtime.json"))
	if err != nil || strings.Contains(string(rt), "/containers/services/") || !strings.Contains(string(rt), "lowerdir=/var/lib/ros/services/hello/lower") {
		t.Errorf("runtime.json = %s, %v, want its paths moved to /var/lib/ros/services/hello", rt, err)
	}
	// Installing again (the image now in the store, no archive) replaces the bundle.
	if err := d.installService(context.Background(), entry, ""); err != nil {
		t.Fatalf("installService again: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(data, "services", ".install-*"))
	if len(left) != 0 {
		t.Errorf("temporary install dirs left: %v", left)
	}
	missing, _ := parseServiceDefinition("m.yml", []byte("name: m\nimage: example.org/missing:1\n"))
	err = d.installService(context.Background(), missing, "")
	if err == nil || !strings.Contains(err.Error(), "example.org/missing") {
		t.Errorf("installService(missing image) = %v, want an error naming the image", err)
	}
}

func TestReadBuildImages(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "ros"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := "services:\n  - name: sshd\n    image: ros/sshd:abc123\n  - name: dhcp\n    image: ros/dhcp\n"
	if err := os.WriteFile(filepath.Join(root, buildMetadata), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	got := readBuildImages(root)
	if got["sshd"] != "ros/sshd:abc123" || got["dhcp"] != "ros/dhcp" || len(got) != 2 {
		t.Errorf("readBuildImages = %v, want sshd and dhcp with their images", got)
	}
	if got := readBuildImages(t.TempDir()); len(got) != 0 {
		t.Errorf("readBuildImages(no metadata) = %v, want empty", got)
	}
}

// ros.services.definitions: installed at boot from the local image store,
// once; a definition whose image is missing is reported, not fatal.
func TestInstallDefinitions(t *testing.T) {
	archive := testImageArchive(t, "example.org/hello:1", map[string]string{"bin/hello": "x"})
	root := t.TempDir()
	data := filepath.Join(root, "var", "lib", "ros")
	var console bytes.Buffer
	d := &daemon{opts: Options{Root: root, DataDir: data}, log: slog.New(slog.DiscardHandler), conOut: &console, store: noStore{err: os.ErrNotExist}}
	seed, _ := parseServiceDefinition("seed.yml", []byte("name: seed\nimage: example.org/hello:1\n"))
	if err := d.installService(context.Background(), seed, archive); err != nil { // puts the image in the store
		t.Fatal(err)
	}
	ok, _ := parseServiceDefinition("d.yml", []byte("name: from-config\nimage: example.org/hello:1\n"))
	missing, _ := parseServiceDefinition("d.yml", []byte("name: lost\nimage: example.org/missing:1\n"))
	d.installDefinitions(context.Background(), []*buildfile.Image{ok, missing})
	if _, err := os.Stat(filepath.Join(data, "services", "from-config", "config.json")); err != nil {
		t.Errorf("from-config not installed: %v", err)
	}
	if !strings.Contains(console.String(), "cloud-config service lost") {
		t.Errorf("console = %q, want the missing image reported", console.String())
	}
	// Installed ones are left alone on later boots.
	cfg := filepath.Join(data, "services", "from-config", "config.json")
	if err := os.WriteFile(cfg, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.installDefinitions(context.Background(), []*buildfile.Image{ok})
	if b, _ := os.ReadFile(cfg); string(b) != "{}" {
		t.Error("an installed definition was installed again")
	}
}

func TestWriteEngineConfig(t *testing.T) {
	dir := t.TempDir()
	e := cloudconfig.Engine{Args: []string{"--debug", "--log-level=warn"}, Daemon: map[string]any{"mtu": 1400}}
	if err := writeEngineConfig(dir, e); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "engine", "docker", "args"))
	dj, _ := os.ReadFile(filepath.Join(dir, "engine", "docker", "daemon.json"))
	if string(args) != "--debug\n--log-level=warn\n" || !strings.Contains(string(dj), `"mtu": 1400`) {
		t.Errorf("args = %q, daemon.json = %q", args, dj)
	}
	if err := writeEngineConfig(dir, cloudconfig.Engine{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "engine", "docker", "daemon.json")); !os.IsNotExist(err) {
		t.Errorf("daemon.json after the options were removed: %v, want gone", err)
	}
}
