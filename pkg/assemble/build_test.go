package assemble

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// rootImages are a kernel with microcode and two init images that overlap:
// the second layer of ros/init deletes and makes opaque, ros/extra
// overrides a file, a directory's metadata and a hard link's target.
func rootImages(t testing.TB) map[string]v1.Image {
	init1 := layerTar(t,
		dir("etc"), file("etc/issue", "init v1\n"), file("etc/hostname", "dropped"),
		file("etc/hosts", "my hosts"), file("etc/resolv.conf", "nameserver 1.1.1.1"),
		dir("opt"), dir("opt/old"), file("opt/old/a", "a"),
		dir("var"), dir("var/lib"), file("var/lib/x", "x"),
		dir("sbin"), exe("sbin/init", "init binary"),
		dir("usr"), dir("usr/bin"), exe("usr/bin/tool", "tool v1"), hardlink("usr/bin/tool2", "usr/bin/tool"),
		dir("dev"), fe{name: "dev/console", typ: tar.TypeChar, mode: 0o600},
	)
	init2 := layerTar(t,
		dir("etc"), file("etc/.wh.issue", ""),
		dir("opt"), dir("opt/old"), file("opt/old/.wh..wh..opq", ""), file("opt/old/b", "b"),
		dir("var"), file("var/.wh.lib", ""),
	)
	extra := layerTar(t,
		fe{name: "etc", typ: tar.TypeDir, mode: 0o750},
		file("etc/issue", "extra\n"),
		dir("usr"), dir("usr/bin"), exe("usr/bin/tool", "tool v2"),
	)
	return map[string]v1.Image{
		"docker.io/ros/kernel:1": kernelImage(t, file("intel-ucode.cpio", "ucode")),
		"docker.io/ros/init:1":   fakeImage(t, "", v1.Config{}, init1, init2),
		"docker.io/ros/extra:1":  fakeImage(t, "", v1.Config{}, extra),
	}
}

const rootYAML = `kernel:
  image: ros/kernel:1
  cmdline: "console=ttyS0 quiet"
  ucode: intel-ucode.cpio
init:
  - ros/init:1
  - ros/extra:1
`

// containerImages: a plain service image with a label, and one whose
// label makes it read-only.
func containerImages(t testing.TB) map[string]v1.Image {
	app := layerTar(t, dir("bin"), exe("bin/app", "app"), dir("etc"),
		file("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1234:1234::/:/bin/sh\n"),
		file("etc/group", "root:x:0:\nstaff:x:1234:\n"))
	ro := layerTar(t, dir("sbin"), exe("sbin/rngd", "rngd"))
	data := layerTar(t, dir("seed"), file("seed/data", "seed"))
	imgs := rootImages(t)
	imgs["docker.io/ros/app:1"] = fakeImage(t, `{"capabilities": ["CAP_NET_ADMIN"], "binds": ["/var/log:/var/log"], "runtime": {"mkdir": ["/var/log/app"]}}`,
		v1.Config{Entrypoint: []string{"/bin/app"}, Cmd: []string{"--serve"}, Env: []string{"PATH=/bin"}}, app)
	imgs["docker.io/ros/rngd:1"] = fakeImage(t, `{"readonly": true, "capabilities": ["CAP_SYS_ADMIN"]}`,
		v1.Config{Cmd: []string{"/sbin/rngd"}}, ro)
	imgs["docker.io/library/alpine:3.21"] = fakeImage(t, "", v1.Config{}, data)
	return imgs
}

const containersYAML = `onboot:
  - name: first
    image: ros/app:1
    command: ["/bin/app", "--once"]
  - name: second
    image: ros/rngd:1
onshutdown:
  - name: bye
    image: ros/rngd:1
services:
  - name: app
    image: ros/app:1
    uid: app
    gid: staff
    binds.add:
      - blank:/blank
      - seeded:/seeded:ro
  - name: rngd
    image: ros/rngd:1
    readonly: true
volumes:
  - name: blank
  - name: seeded
    image: alpine:3.21
    readonly: true
`

const filesYAML = `files:
  - path: etc/issue
    contents: "from files\n"
    mode: "0644"
  - path: /etc/ssh
    directory: true
  - path: etc/ssh/sshd_config
    contents: "PermitRootLogin no"
  - path: var/lib/app
    directory: true
    uid: app
    mode: "0750"
  - path: usr/local/bin/hello
    symlink: /bin/true
  - path: root/.ssh/authorized_keys
    contents: "ssh-ed25519 AAAA test"
    uid: 1000
    gid: 1000
  - path: etc/missing.pub
    source: no-such-file.pub
    optional: true
  - path: etc/from-source
    source: hello.txt
  - path: etc/ros-config.yml
    metadata: yaml
`

func TestBuildGolden(t *testing.T) {
	dirWithSource := t.TempDir()
	if err := os.WriteFile(filepath.Join(dirWithSource, "hello.txt"), []byte("hello from a source file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		yml  string
		file string
	}{
		{"root", rootYAML, "ros.yml"},
		{"containers", containersYAML, "ros.yml"},
		{"files", rootYAML + containersYAML + filesYAML, filepath.Join(dirWithSource, "ros.yml")},
		{"empty", "", "ros.yml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := &fakeSource{images: containerImages(t)}
			cfg := parse(t, c.file, c.yml)
			got := describe(t, build(t, cfg, src))
			got = strings.ReplaceAll(got, dirWithSource, "$DIR")
			golden(t, "build-"+c.name, got)
		})
	}
}

func TestBuildDeterministic(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := parse(t, filepath.Join(dir, "ros.yml"), rootYAML+containersYAML+filesYAML)
	// separately built images with the same contents: nothing may depend
	// on pointers, map order or the clock
	a := build(t, cfg, &fakeSource{images: containerImages(t)})
	time.Sleep(1100 * time.Millisecond)
	b := build(t, cfg, &fakeSource{images: containerImages(t)})
	if !bytes.Equal(a, b) {
		t.Errorf("two builds of the same inputs differ (%d and %d bytes):\n%s", len(a), len(b), diff(describe(t, a), describe(t, b)))
	}
	// and no path twice
	seen := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if seen[h.Name] {
			t.Errorf("path %s written twice", h.Name)
		}
		seen[h.Name] = true
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(unreadable, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		yml  string
		want []string // substrings of the error
		is   error
	}{
		{"missing service image", "services:\n  - name: app\n    image: ros/app:1\n  - name: getty\n    image: ros/getty\n",
			[]string{"ros.yml:4: services[1] \"getty\": image docker.io/ros/getty: ", "not found"}, errNotFound},
		{"missing init image", "init:\n  - ros/init:1\n  - ros/nope:2\n",
			[]string{"ros.yml:3: init[1]: image docker.io/ros/nope:2"}, errNotFound},
		{"missing kernel binary", "kernel:\n  image: ros/kernel:1\n  binary: bzImage\n",
			[]string{"ros.yml:2: kernel: image ros/kernel:1: kernel binary /bzImage: file not found"}, ErrKernelFile},
		{"missing kernel tar", "kernel:\n  image: ros/kernel:1\n  tar: modules.tar\n",
			[]string{"kernel tar /modules.tar"}, ErrKernelFile},
		{"missing source", "files:\n  - path: etc/x\n    contents: x\n  - path: etc/key\n    source: nope.key\n",
			[]string{"ros.yml:4: files", "nope.key"}, nil},
		{"source is a directory", "files:\n  - path: etc/x\n    source: adir\n",
			[]string{"ros.yml:2: files", "adir", "is a directory"}, nil},
		{"unknown volume", "services:\n  - name: app\n    image: ros/app:1\n    binds:\n      - data:/data\n",
			[]string{"ros.yml:2: services[0] \"app\": ", `volume "data" not found`}, ErrInvalid},
		{"read-only volume bound rw", "services:\n  - name: app\n    image: ros/app:1\n    binds:\n      - data:/data\nvolumes:\n  - name: data\n    readonly: true\n",
			[]string{"volume data is read-only"}, ErrInvalid},
		{"files over config.json", "services:\n  - name: app\n    image: ros/app:1\nfiles:\n  - path: containers/services/app/config.json\n    contents: x\n",
			[]string{"config.json", "path written twice"}, ErrDuplicatePath},
		{"unknown file owner", "files:\n  - path: etc/x\n    contents: x\n    uid: nobody\n",
			[]string{"ros.yml:2: files \"etc/x\": uid: \"nobody\""}, nil},
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(unreadable, 0); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name string
			yml  string
			want []string
			is   error
		}{"unreadable source", "files:\n  - path: etc/key\n    source: secret.key\n",
			[]string{"ros.yml:2: files", "permission denied"}, nil})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := parse(t, filepath.Join(dir, "ros.yml"), c.yml)
			err := Build(context.Background(), cfg, &fakeSource{images: containerImages(t)}, &bytes.Buffer{}, Options{})
			if err == nil {
				t.Fatalf("Build() = nil, want an error")
			}
			msg := strings.ReplaceAll(err.Error(), dir+"/", "")
			t.Log(msg)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Build() = %q, want it to contain %q", msg, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("Build() = %v, want errors.Is %v", err, c.is)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cfg := parse(t, "ros.yml", rootYAML+containersYAML)
	// Validate takes no image source: it cannot fetch images.
	if err := Validate(cfg); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
	if err := Validate(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate(nil) = %v, want ErrInvalid", err)
	}
	bad := parse(t, "ros.yml", "volumes:\n  - name: v\n    format: oci\n")
	if err := Validate(bad); err == nil || !strings.Contains(err.Error(), `ros.yml:2: volumes[0] "v": format "oci"`) {
		t.Errorf("Validate(oci volume) = %v, want a format error at ros.yml:2", err)
	}
}

func TestNoDedup(t *testing.T) {
	cfg := parse(t, "ros.yml", containersYAML)
	var dedup, plain bytes.Buffer
	ctx := context.Background()
	if err := Build(ctx, cfg, &fakeSource{images: containerImages(t)}, &dedup, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Build(ctx, cfg, &fakeSource{images: containerImages(t)}, &plain, Options{NoDedup: true}); err != nil {
		t.Fatal(err)
	}
	d, p := describe(t, dedup.Bytes()), describe(t, plain.Bytes())
	if strings.Contains(d, "containers/services/rngd/rootfs/sbin/rngd") {
		t.Errorf("with dedup, services/rngd has its own copy of the image")
	}
	if !strings.Contains(p, "containers/services/rngd/rootfs/sbin/rngd") {
		t.Errorf("with NoDedup, services/rngd has no copy of the image")
	}
	if !strings.Contains(d, `"source": "/containers/onboot/001-second/rootfs"`) {
		t.Errorf("with dedup, no runtime.json mount binds the shared rootfs:\n%s", d)
	}
}
