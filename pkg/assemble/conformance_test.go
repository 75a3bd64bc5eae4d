package assemble

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// conformanceDir holds LinuxKit's example build files.
const conformanceDir = "../../../shared/conformance/linuxkit"

// linuxkitLabels are plausible org.mobyproject.config labels for the
// LinuxKit images the examples name (after LinuxKit's pkg/*/build.yml).
var linuxkitLabels = map[string]string{
	"sysctl": `{"net": "host", "pid": "host", "ipc": "host", "capabilities": ["CAP_SYS_ADMIN"], "readonly": true,
		"binds": ["/etc/sysctl.d:/etc/sysctl.d"]}`,
	"rngd": `{"capabilities": ["CAP_SYS_ADMIN"], "readonly": true, "net": "none",
		"devices": [{"path": "/dev/hwrng", "type": "c", "major": 10, "minor": 183, "mode": "0660"}]}`,
	"dhcpcd": `{"binds": ["/var/run:/run", "/var/lib/dhcpcd:/var/lib/dhcpcd", "/etc/resolv.conf:/etc/resolv.conf"],
		"capabilities": ["CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_ADMIN"], "net": "host",
		"runtime": {"mkdir": ["/var/lib/dhcpcd"]}}`,
	"getty": `{"binds": ["/etc/resolv.conf:/etc/resolv.conf", "/run:/run", "/tmp:/tmp", "/etc:/hostroot/etc",
		"/usr/bin/ctr:/usr/bin/ctr", "/usr/bin/runc:/usr/bin/runc", "/containers:/containers", "/var/log:/var/log",
		"/dev:/dev", "/sys:/sys"], "capabilities": ["all"], "pid": "host", "net": "host", "rootfsPropagation": "shared"}`,
	"sshd": `{"binds": ["/etc/resolv.conf:/etc/resolv.conf", "/run:/run", "/tmp:/tmp", "/etc:/hostroot/etc",
		"/usr/bin/ctr:/usr/bin/ctr", "/usr/bin/runc:/usr/bin/runc", "/containers:/containers", "/var/log:/var/log",
		"/dev:/dev", "/sys:/sys"], "capabilities": ["all"], "pid": "host", "net": "host", "rootfsPropagation": "shared"}`,
}

// linuxkitSource makes a fake image for any reference, from the last part
// of its repository name.
type linuxkitSource struct{ t testing.TB }

func (s linuxkitSource) Image(_ context.Context, ref string) (v1.Image, error) {
	t := s.t
	repo := ref[strings.LastIndex(ref, "/")+1:]
	if i := strings.IndexAny(repo, ":@"); i >= 0 {
		repo = repo[:i]
	}
	switch repo {
	case "kernel":
		return kernelImage(t), nil
	case "init":
		return fakeImage(t, "", v1.Config{}, layerTar(t, dir("etc"), file("etc/issue", "Welcome to LinuxKit\n"),
			dir("sbin"), exe("sbin/init", "init"), dir("usr"), dir("usr/bin"), exe("usr/bin/service", "service"))), nil
	case "runc":
		return fakeImage(t, "", v1.Config{}, layerTar(t, dir("usr"), dir("usr/bin"), exe("usr/bin/runc", "runc"))), nil
	case "containerd":
		return fakeImage(t, "", v1.Config{}, layerTar(t, dir("usr"), dir("usr/bin"), exe("usr/bin/containerd", "containerd"),
			exe("usr/bin/ctr", "ctr"), dir("etc"), dir("etc/containerd"), file("etc/containerd/config.toml", "version = 2\n"))), nil
	case "ca-certificates":
		return fakeImage(t, "", v1.Config{}, layerTar(t, dir("etc"), dir("etc/ssl"), dir("etc/ssl/certs"),
			file("etc/ssl/certs/ca-certificates.crt", "-----BEGIN CERTIFICATE-----\n"))), nil
	}
	return fakeImage(t, linuxkitLabels[repo], v1.Config{Cmd: []string{"/usr/bin/" + repo}, Env: []string{"PATH=/usr/bin:/bin"}},
		layerTar(t, dir("usr"), dir("usr/bin"), exe("usr/bin/"+repo, repo), dir("etc"), file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"))), nil
}

func TestConformance(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // sshd.yml's optional ~/.ssh/id_rsa.pub is missing
	for _, name := range []string{"sshd.yml", "getty.yml", "volumes.yml", "minimal.yml"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(conformanceDir, name)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Skipf("conformance corpus not here: %v", err)
			}
			cfg := parse(t, name, string(data))
			golden(t, "conformance-"+strings.TrimSuffix(name, ".yml"), describe(t, build(t, cfg, linuxkitSource{t})))
		})
	}
}
