package recipe

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/ocistore"
)

// TestRepoImages builds every recipe in images/ for real and checks what
// each image must hold. Slow (a first run downloads ~150 MB of packages
// into the shared apt cache); skipped under -short.
func TestRepoImages(t *testing.T) {
	needMmdebstrap(t)
	ctx := context.Background()
	store, err := ocistore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]func(t *testing.T, files map[string]*tar.Header, data map[string][]byte, label map[string]any){
		"kernel":     checkKernel,
		"init":       wantFiles("usr/bin/ros", "usr/bin/ros-init", "usr/lib/ros/initrd-init", "sbin/init", "usr/bin/system-docker", "bin/busybox", "bin/sh", "etc/passwd", "etc/group", "etc/os-release", "etc/hosts", "etc/nsswitch.conf", "etc/ssl/certs/ca-certificates.crt"),
		"containerd": wantFiles("usr/bin/containerd", "usr/bin/containerd-shim-runc-v2", "usr/bin/runc", "usr/sbin/runc", "etc/containerd/config.toml", "lib/x86_64-linux-gnu/libc.so.6"),
		"getty":      wantFiles("sbin/agetty", "bin/login", "usr/bin/rungetty", "etc/pam.d/login", "lib/x86_64-linux-gnu/security/pam_unix.so", "bin/sh"),
		"sshd":       wantFiles("usr/sbin/sshd", "usr/bin/ssh-keygen", "etc/ssh/sshd_config", "usr/lib/ros/sshd-start", "bin/sh"),
		"dhcp":       wantFiles("usr/lib/ros/dhcp-start", "usr/lib/ros/udhcpc.script", "bin/busybox", "bin/udhcpc", "bin/sh"),
		"ntpd":       wantFiles("usr/sbin/ntpd", "etc/openntpd/ntpd.conf", "etc/passwd"),
		"docker":     wantFiles("usr/sbin/dockerd", "usr/bin/docker", "usr/sbin/docker-proxy", "usr/bin/docker-init", "usr/bin/containerd", "usr/sbin/runc", "usr/sbin/iptables", "usr/sbin/xtables-nft-multi", "etc/ssl/certs/ca-certificates.crt"),
	}
	dirs, _ := filepath.Glob("../../images/*/" + FileName)
	for _, p := range dirs {
		dir := filepath.Dir(p)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			ref, _, err := Build(ctx, dir, store, Options{})
			if err != nil {
				t.Fatal(err)
			}
			img, err := store.Image(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			var label map[string]any
			if s, ok := cf.Config.Labels[MobyConfigLabel]; ok {
				if err := json.Unmarshal([]byte(s), &label); err != nil {
					t.Errorf("label %s = %q: %v", MobyConfigLabel, s, err)
				}
			}
			files, data, _ := layerFiles(t, img)
			for _, c := range append(cf.Config.Entrypoint, cf.Config.Cmd...) {
				if strings.HasPrefix(c, "/") && files[strings.TrimPrefix(c, "/")] == nil {
					t.Errorf("entrypoint/cmd %s is not in the image", c)
				}
			}
			checkSymlinks(t, files)
			check, ok := checks[name]
			if !ok {
				t.Fatalf("no content check for image %s: add one to TestRepoImages", name)
			}
			check(t, files, data, label)
		})
	}
}

func wantFiles(paths ...string) func(*testing.T, map[string]*tar.Header, map[string][]byte, map[string]any) {
	return func(t *testing.T, files map[string]*tar.Header, _ map[string][]byte, _ map[string]any) {
		for _, p := range paths {
			if files[p] == nil {
				t.Errorf("image lacks /%s", p)
			}
		}
	}
}

// checkSymlinks fails on symlinks that point nowhere inside the image,
// except into runtime mounts (/run, /proc).
func checkSymlinks(t *testing.T, files map[string]*tar.Header) {
	for n, h := range files {
		if h.Typeflag != tar.TypeSymlink {
			continue
		}
		target := h.Linkname
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(n), target)
		}
		target = strings.TrimPrefix(path.Clean("/"+target), "/")
		if strings.HasPrefix(target, "run/") || strings.HasPrefix(target, "proc/") {
			continue
		}
		if files[target] == nil {
			t.Errorf("symlink /%s -> %s dangles", n, h.Linkname)
		}
	}
}

// checkKernel verifies LinuxKit's kernel layout and that the pruned module
// tree is self-contained: every module modules.dep names is in kernel.tar.
func checkKernel(t *testing.T, files map[string]*tar.Header, data map[string][]byte, _ map[string]any) {
	if len(files) != 2 || files["kernel"] == nil || files["kernel.tar"] == nil {
		var names []string
		for n := range files {
			names = append(names, n)
		}
		t.Fatalf("kernel image holds %v, want kernel and kernel.tar", names)
	}
	if !bytes.Contains(data["kernel"][:1024], []byte("HdrS")) {
		t.Errorf("/kernel is not a bzImage (no HdrS header)")
	}
	inTar := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data["kernel.tar"]))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		inTar[strings.TrimSuffix(h.Name, "/")] = b
	}
	var dep []byte
	var base string
	for n, b := range inTar {
		if strings.HasSuffix(n, "/modules.dep") {
			dep, base = b, path.Dir(n)
		}
	}
	if dep == nil {
		t.Fatal("kernel.tar has no modules.dep")
	}
	mods := 0
	for _, line := range strings.Split(string(dep), "\n") {
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		mods++
		for _, m := range append([]string{mod}, strings.Fields(deps)...) {
			if _, ok := inTar[base+"/"+m]; !ok {
				t.Errorf("modules.dep names %s, not in kernel.tar", m)
			}
		}
	}
	for _, want := range []string{"virtio_blk", "virtio_net", "nvme", "ahci", "ext4", "crc32c_generic", "squashfs", "overlay", "isofs", "nf_tables", "br_netfilter", "veth"} {
		found := false
		for n := range inTar {
			if modName(n) == want && isModule(n) {
				found = true
			}
		}
		if !found && !strings.Contains(string(inTar[base+"/modules.builtin"]), "/"+want+".ko") {
			t.Errorf("kernel.tar lacks module %s", want)
		}
	}
	t.Logf("kernel: %d modules, kernel.tar %d bytes, kernel %d bytes", mods, len(data["kernel.tar"]), len(data["kernel"]))
}
