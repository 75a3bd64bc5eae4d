package configapply

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

func TestResolv(t *testing.T) {
	tests := []struct {
		name     string
		yml      string
		want     string // "" = no static file
		warnings int
	}{
		{"ros dns", "ros: {network: {dns: {nameservers: [1.1.1.1, 8.8.8.8], search: [lan]}}}",
			"search lan\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n", 0},
		{"resolv_conf managed", "manage_resolv_conf: true\nresolv_conf: {nameservers: [9.9.9.9], searchdomains: [a.lan, b.lan], domain: lan, options: {rotate: true, timeout: 1, edns0: false}}",
			"domain lan\nsearch a.lan b.lan\nnameserver 9.9.9.9\noptions rotate timeout:1\n", 0},
		{"both merged", "manage_resolv_conf: true\nresolv_conf: {nameservers: [1.1.1.1, 9.9.9.9]}\nros: {network: {dns: {nameservers: [1.1.1.1]}}}",
			"nameserver 1.1.1.1\nnameserver 9.9.9.9\n", 0},
		{"resolv_conf not managed", "resolv_conf: {nameservers: [9.9.9.9]}", "", 1},
		{"too many", "ros: {network: {dns: {nameservers: [1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4]}}}",
			"nameserver 1.1.1.1\nnameserver 1.0.0.1\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sys := newFake(t)
			writeT(t, f.root, ResolvConf, "nameserver 10.0.2.3\n") // from DHCP
			before, _ := os.Stat(filepath.Join(f.root, ResolvConf))
			r := Apply(context.Background(), sys, nil, parse(t, tt.yml), Boot)
			noErrors(t, r)
			if len(r.Warnings) != tt.warnings {
				t.Errorf("Warnings = %q, want %d", r.Warnings, tt.warnings)
			}
			if tt.want == "" {
				if existsT(f.root, StaticResolvConf) || readT(t, f.root, ResolvConf) != "nameserver 10.0.2.3\n" {
					t.Errorf("resolver written without anything to write")
				}
				return
			}
			want := "# Written by ros from cloud-config (ros.network.dns, resolv_conf).\n" + tt.want
			for _, file := range []string{ResolvConf, StaticResolvConf} {
				if got := readT(t, f.root, file); got != want {
					t.Errorf("%s =\n%s\nwant\n%s", file, got, want)
				}
			}
			after, _ := os.Stat(filepath.Join(f.root, ResolvConf))
			if !os.SameFile(before, after) {
				t.Errorf("%s replaced, not rewritten in place (containers bind it)", ResolvConf)
			}
		})
	}
}

func TestResolvRemovedLive(t *testing.T) {
	f, sys := newFake(t)
	prev := parse(t, "ros: {network: {dns: {nameservers: [1.1.1.1]}}}")
	noErrors(t, Apply(context.Background(), sys, nil, prev, Boot))
	r := Apply(context.Background(), sys, prev, parse(t, "hostname: a"), Live)
	noErrors(t, r)
	if existsT(f.root, StaticResolvConf) {
		t.Errorf("%s kept after the DNS settings were removed", StaticResolvConf)
	}
	if !cmp.Equal(r.Applied, []string{"hostname", "ros.network"}) {
		t.Errorf("Applied = %q", r.Applied)
	}
}

func hostKeyT(t *testing.T) (private, public string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	spub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), string(ssh.MarshalAuthorizedKey(spub))
}

func TestSSH(t *testing.T) {
	priv, pub := hostKeyT(t)
	indent := func(s string) string {
		return "          " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n          ")
	}
	yml := "ssh_pwauth: true\nros:\n  ssh:\n    port: 2222\n    host_keys:\n      - type: ed25519\n        private: |\n" + indent(priv) + "\n"
	f, sys := newFake(t)
	r := Apply(context.Background(), sys, nil, parse(t, yml), Boot)
	noErrors(t, r)
	if got, want := readT(t, f.root, SSHDropIn), "# Written by ros from cloud-config (ros.ssh, ssh_pwauth).\nPort 2222\nPasswordAuthentication yes\n"; got != want {
		t.Errorf("%s = %q, want %q", SSHDropIn, got, want)
	}
	key := SSHKeyDir + "/ssh_host_ed25519_key"
	if got := readT(t, f.root, key); got != priv {
		t.Errorf("private host key not written as given")
	}
	if got := readT(t, f.root, key+".pub"); got != pub {
		t.Errorf("public host key = %q, want %q (derived from the private key)", got, pub)
	}
	if m := modeT(t, f.root, key); m != 0o600 {
		t.Errorf("private host key mode = %v, want 0600", m)
	}
	if m := modeT(t, f.root, SSHKeyDir); m != 0o700|os.ModeDir {
		t.Errorf("%s mode = %v, want 0700", SSHKeyDir, m)
	}
	if !cmp.Equal(r.RestartServices, []string{"sshd"}) || !cmp.Equal(r.Applied, []string{"ros.ssh", "ssh_pwauth"}) {
		t.Errorf("RestartServices = %q, Applied = %q", r.RestartServices, r.Applied)
	}
	if r := Apply(context.Background(), sys, nil, parse(t, yml), Boot); len(r.RestartServices) != 0 {
		t.Errorf("unchanged ssh settings: RestartServices = %q, want none", r.RestartServices)
	}
	// Settings removed live: the drop-in goes, sshd restarts.
	r = Apply(context.Background(), sys, parse(t, yml), parse(t, "hostname: a"), Live)
	noErrors(t, r)
	if existsT(f.root, SSHDropIn) || !cmp.Equal(r.RestartServices, []string{"sshd"}) {
		t.Errorf("ssh settings removed: drop-in kept or RestartServices = %q", r.RestartServices)
	}
}

func TestSSHRSAHostKeyLine(t *testing.T) {
	f, sys := newFake(t)
	// Validation needs a real key; the type only decides the file name.
	priv, pub := hostKeyT(t)
	c := parse(t, "ros: {ssh: {host_keys: [{type: rsa, private: "+quoteYAML(priv)+", public: "+quoteYAML(pub)+"}]}}")
	noErrors(t, Apply(context.Background(), sys, nil, c, Boot))
	want := "HostKey " + SSHKeyDir + "/ssh_host_rsa_key\n"
	if got := readT(t, f.root, SSHDropIn); !strings.HasSuffix(got, want) {
		t.Errorf("%s = %q, want a line %q", SSHDropIn, got, want)
	}
}

func quoteYAML(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

func TestMounts(t *testing.T) {
	f, sys := newFake(t)
	root := f.root
	writeT(t, root, "/proc/self/mountinfo",
		"22 1 0:21 / "+root+"/mnt/already rw,relatime shared:1 - ext4 /dev/vdc rw\n")
	f.fail["mount /dev/vde"] = errors.New("exit status 32")
	f.fail["mount -t nfs"] = errors.New("exit status 32")
	c := parse(t, `mounts:
  - [vdb, /mnt/data, ext4, "defaults,nofail,noatime,x-systemd.requires=cloud-init.service", "0", "2"]
  - [LABEL=logs, /var/log/app]
  - [/dev/vdc, /mnt/already, ext4]
  - [/dev/vdd, none, swap, sw]
  - [vde, /mnt/gone, auto, nofail]
  - ["srv:/export", /mnt/nfs, nfs]
  - [ephemeral0, /mnt/eph]
  - [/dev/vdf, /mnt/later, ext4, noauto]`)
	r := Apply(context.Background(), sys, nil, c, Boot)
	want := []string{
		"mount -t ext4 -o noatime /dev/vdb " + root + "/mnt/data",
		"mount LABEL=logs " + root + "/var/log/app",
		"swapon /dev/vdd",
		"mount /dev/vde " + root + "/mnt/gone",
		"mount -t nfs srv:/export " + root + "/mnt/nfs",
	}
	if !cmp.Equal(f.cmds, want) {
		t.Errorf("commands =\n%q\nwant\n%q", f.cmds, want)
	}
	if len(r.Errors) != 1 || !hasError(r, "mounts[5]", "mount srv:/export on /mnt/nfs") {
		t.Errorf("Errors = %v, want mounts[5] only", r.Errors)
	}
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "mounts[4]") || !strings.Contains(r.Warnings[1], "mounts[6]") {
		t.Errorf("Warnings = %q, want mounts[4] (nofail) and mounts[6] (ephemeral)", r.Warnings)
	}
	for _, dir := range []string{"/mnt/data", "/var/log/app", "/mnt/nfs"} {
		if m := modeT(t, root, dir); !m.IsDir() {
			t.Errorf("mount point %s not made", dir)
		}
	}
}
