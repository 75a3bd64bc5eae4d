package configapply

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestHostname(t *testing.T) {
	tests := []struct {
		name      string
		yml       string
		wantHost  string
		wantLine  string // the 127.0.1.1 line; "" = none
		wantFile  string
		wantApply []string
	}{
		{"hostname", "hostname: box", "box", "127.0.1.1\tbox", "box\n", []string{"hostname"}},
		{"fqdn only", "fqdn: box.example.com", "box", "127.0.1.1\tbox.example.com box", "box\n", []string{"fqdn"}},
		{"both", "hostname: web\nfqdn: web.lan", "web", "127.0.1.1\tweb.lan web", "web\n", []string{"fqdn", "hostname"}},
		{"dotted hostname", "hostname: db.lan", "db", "127.0.1.1\tdb.lan db", "db\n", []string{"hostname"}},
		{"hosts not managed", "hostname: box\nmanage_etc_hosts: false", "box", "", "box\n", []string{"hostname", "manage_etc_hosts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sys := newFake(t)
			c := parse(t, tt.yml)
			var r Report
			for range 2 { // the second run must change nothing
				r = Apply(context.Background(), sys, nil, c, Boot)
				noErrors(t, r)
			}
			if !cmp.Equal(f.hostnames, []string{tt.wantHost, tt.wantHost}) {
				t.Errorf("sethostname calls = %q, want %q twice", f.hostnames, tt.wantHost)
			}
			if got := readT(t, f.root, "/etc/hostname"); got != tt.wantFile {
				t.Errorf("/etc/hostname = %q, want %q", got, tt.wantFile)
			}
			hosts := readT(t, f.root, "/etc/hosts")
			want := baseHosts
			if tt.wantLine != "" {
				want += tt.wantLine + "\n"
			}
			if hosts != want {
				t.Errorf("/etc/hosts = %q, want %q", hosts, want)
			}
			if !cmp.Equal(r.Applied, tt.wantApply) {
				t.Errorf("Applied = %q, want %q", r.Applied, tt.wantApply)
			}
		})
	}
}

func TestHostnameReplacesLine(t *testing.T) {
	f, sys := newFake(t)
	writeT(t, f.root, "/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 old\n::1 localhost\n")
	noErrors(t, Apply(context.Background(), sys, nil, parse(t, "hostname: new"), Boot))
	if got, want := readT(t, f.root, "/etc/hosts"), "127.0.0.1 localhost\n127.0.1.1\tnew\n::1 localhost\n"; got != want {
		t.Errorf("/etc/hosts = %q, want %q", got, want)
	}
}

func TestSysctl(t *testing.T) {
	f, sys := newFake(t)
	writeT(t, f.root, "/proc/sys/net/ipv4/ip_forward", "0\n")
	writeT(t, f.root, "/proc/sys/vm/swappiness", "60\n")
	writeT(t, f.root, "/proc/sys/net/ipv4/conf/eth0.100/rp_filter", "0\n")
	c := parse(t, "ros: {sysctl: {net.ipv4.ip_forward: 1, vm.swappiness: 10, net/ipv4/conf/eth0.100/rp_filter: 2, kernel.nope: 1}}")
	r := Apply(context.Background(), sys, nil, c, Boot)
	for file, want := range map[string]string{"/proc/sys/net/ipv4/ip_forward": "1", "/proc/sys/vm/swappiness": "10",
		"/proc/sys/net/ipv4/conf/eth0.100/rp_filter": "2"} {
		if got := readT(t, f.root, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if len(r.Errors) != 1 || !hasError(r, "ros.sysctl.kernel.nope", "no such kernel parameter") {
		t.Errorf("Errors = %v, want one for ros.sysctl.kernel.nope", r.Errors)
	}
	if existsT(f.root, "/proc/sys/kernel/nope") {
		t.Errorf("a missing sysctl was created")
	}
}

func TestModules(t *testing.T) {
	f, sys := newFake(t)
	f.fail["modprobe bad"] = errors.New("exit status 1")
	r := Apply(context.Background(), sys, nil, parse(t, "ros: {modules: [br_netfilter, 'bonding mode=1', bad]}"), Boot)
	want := []string{"modprobe br_netfilter", "modprobe bonding mode=1", "modprobe bad"}
	if !cmp.Equal(f.cmds, want) {
		t.Errorf("commands = %q, want %q", f.cmds, want)
	}
	if len(r.Errors) != 1 || !hasError(r, "ros.modules[2]", "modprobe bad") {
		t.Errorf("Errors = %v, want one for ros.modules[2]", r.Errors)
	}
	// Live: only the new module is loaded; a removed one needs a reboot.
	f.cmds = nil
	prev := parse(t, "ros: {modules: [br_netfilter, 'bonding mode=1']}")
	r = Apply(context.Background(), sys, prev, parse(t, "ros: {modules: [br_netfilter, veth]}"), Live)
	noErrors(t, r)
	if !cmp.Equal(f.cmds, []string{"modprobe veth"}) || !cmp.Equal(r.NeedsReboot, []string{"ros.modules"}) {
		t.Errorf("live modules: commands %q, NeedsReboot %q; want [modprobe veth], [ros.modules]", f.cmds, r.NeedsReboot)
	}
}

func TestTimezone(t *testing.T) {
	tests := []struct {
		name, zone string
		zoneinfo   bool // the zone file exists
		wantLink   string
		wantErr    string
	}{
		{"zone present", "Europe/Paris", true, "/usr/share/zoneinfo/Europe/Paris", ""},
		{"zone missing", "Europe/Paris", false, "", `unknown time zone "Europe/Paris"`},
		{"UTC without tzdata", "UTC", false, "", ""},
		{"UTC with tzdata", "Etc/UTC", true, "/usr/share/zoneinfo/Etc/UTC", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sys := newFake(t)
			if tt.zoneinfo {
				writeT(t, f.root, "/usr/share/zoneinfo/"+tt.zone, "TZif")
			}
			writeT(t, f.root, "/etc/localtime", "old")
			r := Apply(context.Background(), sys, nil, parse(t, "timezone: "+tt.zone), Boot)
			if tt.wantErr != "" {
				if !hasError(r, "timezone", tt.wantErr) {
					t.Errorf("Errors = %v, want timezone: %s", r.Errors, tt.wantErr)
				}
				return
			}
			noErrors(t, r)
			if got := readT(t, f.root, "/etc/timezone"); got != tt.zone+"\n" {
				t.Errorf("/etc/timezone = %q, want %q", got, tt.zone)
			}
			if tt.wantLink == "" {
				if existsT(f.root, "/etc/localtime") {
					t.Errorf("/etc/localtime kept for %s without tzdata", tt.zone)
				}
				return
			}
			if modeT(t, f.root, "/etc/localtime")&fs.ModeSymlink == 0 {
				t.Errorf("/etc/localtime is not a symlink")
			}
			if got, _ := readlink(f.root, "/etc/localtime"); got != tt.wantLink {
				t.Errorf("/etc/localtime -> %q, want %q", got, tt.wantLink)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	f, sys := newFake(t)
	c := parse(t, `bootcmd: [env]
ros:
  environment: {FOO: bar, SPACED: "a b", http_proxy: mine}
  network: {proxy: {http: "http://p:3128", no_proxy: "localhost,10.0.0.0/8"}}`)
	r := Apply(context.Background(), sys, nil, c, Boot)
	noErrors(t, r)
	wantEnv := map[string]string{"FOO": "bar", "SPACED": "a b", "HTTP_PROXY": "http://p:3128", "http_proxy": "mine",
		"NO_PROXY": "localhost,10.0.0.0/8", "no_proxy": "localhost,10.0.0.0/8"}
	if diff := cmp.Diff(wantEnv, r.Environment); diff != "" {
		t.Errorf("Environment mismatch (-want +got):\n%s", diff)
	}
	want := "FOO=bar\nHTTP_PROXY=http://p:3128\nNO_PROXY=localhost,10.0.0.0/8\nSPACED=\"a b\"\nhttp_proxy=mine\nno_proxy=localhost,10.0.0.0/8\n"
	if got := readT(t, f.root, "/etc/environment"); got != want {
		t.Errorf("/etc/environment = %q, want %q", got, want)
	}
	if len(f.envs) != 1 || !containsAll(f.envs[0], "FOO=bar", "SPACED=a b", "HTTP_PROXY=http://p:3128", "PATH="+basePath, "HOME=/root") {
		t.Errorf("bootcmd environment = %q, want ros.environment, proxies, PATH and HOME", f.envs)
	}
	if !cmp.Equal(r.Applied, []string{"bootcmd", "ros.environment", "ros.network"}) {
		t.Errorf("Applied = %q", r.Applied)
	}
}

func containsAll(env []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, e := range env {
			found = found || e == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestNTP(t *testing.T) {
	f, sys := newFake(t)
	c := parse(t, "ntp: {servers: [ntp1.lan, 10.0.0.1], pools: [pool.ntp.org]}")
	r := Apply(context.Background(), sys, nil, c, Boot)
	noErrors(t, r)
	want := "# Written by ros from cloud-config (ntp).\nservers ntp1.lan\nservers 10.0.0.1\nservers pool.ntp.org\n"
	if got := readT(t, f.root, NTPConf); got != want {
		t.Errorf("%s = %q, want %q", NTPConf, got, want)
	}
	if !cmp.Equal(r.RestartServices, []string{"ntpd"}) {
		t.Errorf("RestartServices = %q, want [ntpd]", r.RestartServices)
	}
	r = Apply(context.Background(), sys, nil, c, Boot)
	if len(r.RestartServices) != 0 {
		t.Errorf("unchanged ntp: RestartServices = %q, want none", r.RestartServices)
	}
	r = Apply(context.Background(), sys, c, parse(t, "hostname: x"), Live)
	if existsT(f.root, NTPConf) || !cmp.Equal(r.RestartServices, []string{"ntpd"}) {
		t.Errorf("ntp removed: file kept or RestartServices = %q", r.RestartServices)
	}
}

func TestCommands(t *testing.T) {
	yml := "bootcmd: [echo boot, [touch, /x]]\nruncmd: ['exit 3', echo run]\n"
	tests := []struct {
		stage    Stage
		want     []string
		applied  []string
		warnings int
	}{
		{Boot, []string{"/bin/sh -c echo boot", "touch /x"}, []string{"bootcmd"}, 0},
		{FirstBoot, []string{"/bin/sh -c echo boot", "touch /x", "/bin/sh -c exit 3", "/bin/sh -c echo run",
			"/run/ros/cloud-config/scripts/00-setup.sh"}, []string{"bootcmd", "scripts"}, 0},
		{Live, nil, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.stage.String(), func(t *testing.T) {
			f, sys := newFake(t)
			f.fail["/bin/sh -c exit 3"] = errors.New("exit status 3")
			c := parse(t, yml)
			c.Scripts = append(c.Scripts, scriptT("setup.sh"))
			r := Apply(context.Background(), sys, nil, c, tt.stage)
			if !cmp.Equal(f.cmds, tt.want, cmpopts.EquateEmpty()) {
				t.Errorf("commands = %q, want %q", f.cmds, tt.want)
			}
			if !cmp.Equal(r.Applied, tt.applied, cmpopts.EquateEmpty()) {
				t.Errorf("Applied = %q, want %q", r.Applied, tt.applied)
			}
			if tt.stage == FirstBoot {
				if len(r.Errors) != 1 || !hasError(r, "runcmd[0]", "exit status 3") {
					t.Errorf("Errors = %v, want runcmd[0] only", r.Errors)
				}
				if got := readT(t, f.root, ScriptDir+"/00-setup.sh"); got != "#!/bin/sh\necho hi\n" {
					t.Errorf("script = %q", got)
				}
				if m := modeT(t, f.root, ScriptDir+"/00-setup.sh"); m.Perm() != 0o700 {
					t.Errorf("script mode = %v, want 0700", m)
				}
				if !strings.Contains(f.out.String(), "ros: runcmd[1]: /bin/sh -c echo run\nran /bin/sh -c echo run\n") {
					t.Errorf("output = %q, want each command named before its output", f.out.String())
				}
			}
			if tt.stage == Live && (len(r.Warnings) != tt.warnings || !cmp.Equal(r.NeedsReboot, []string{"bootcmd"})) {
				t.Errorf("Live: warnings %q, NeedsReboot %q; want 2 warnings and [bootcmd]", r.Warnings, r.NeedsReboot)
			}
		})
	}
}

func TestLiveAppliesOnlyChanges(t *testing.T) {
	f, sys := newFake(t)
	prev := parse(t, "hostname: a\nros: {modules: [x]}\nwrite_files: [{path: /etc/a, content: a}]")
	next := parse(t, "hostname: b\nros: {modules: [x]}\nwrite_files: [{path: /etc/a, content: a}, {path: /etc/b, content: b}]")
	writeT(t, f.root, "/etc/a", "changed by hand")
	r := Apply(context.Background(), sys, prev, next, Live)
	noErrors(t, r)
	if !cmp.Equal(r.Applied, []string{"hostname", "write_files"}) {
		t.Errorf("Applied = %q, want [hostname write_files]", r.Applied)
	}
	if len(f.cmds) != 0 {
		t.Errorf("commands = %q, want none (modules unchanged)", f.cmds)
	}
	if got := readT(t, f.root, "/etc/a"); got != "changed by hand" {
		t.Errorf("/etc/a = %q: an unchanged entry was written again live", got)
	}
	if got := readT(t, f.root, "/etc/b"); got != "b" {
		t.Errorf("/etc/b = %q, want b", got)
	}
	r = Apply(context.Background(), sys, next, parse(t, "ros: {modules: [x]}"), Live)
	if !cmp.Equal(r.NeedsReboot, []string{"hostname"}) {
		t.Errorf("hostname removed: NeedsReboot = %q, want [hostname]", r.NeedsReboot)
	}
}

func TestErrorsDoNotStopOtherKeys(t *testing.T) {
	f, sys := newFake(t)
	f.hostErr = errors.New("operation not permitted")
	c := parse(t, "hostname: box\ntimezone: Nowhere/Land\nssh_authorized_keys: ['"+keyA+"']\nntp: {servers: [a.lan]}")
	r := Apply(context.Background(), sys, nil, c, Boot)
	if !hasError(r, "hostname", "operation not permitted") || !hasError(r, "timezone", "Nowhere/Land") || len(r.Errors) != 2 {
		t.Errorf("Errors = %v, want hostname and timezone", r.Errors)
	}
	if !cmp.Equal(r.Applied, []string{"ntp", "ssh_authorized_keys"}) {
		t.Errorf("Applied = %q, want [ntp ssh_authorized_keys]", r.Applied)
	}
	if got := readT(t, f.root, "/etc/hostname"); got != "box\n" {
		t.Errorf("/etc/hostname = %q: a failed sethostname stopped the rest of the key", got)
	}
}

func TestApplyNeedsRoot(t *testing.T) {
	r := Apply(context.Background(), &System{}, nil, parse(t, "hostname: a"), Boot)
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Error(), "Root is empty") {
		t.Errorf("Apply with no Root: Errors = %v, want one naming Root", r.Errors)
	}
}

func TestApplyCancelled(t *testing.T) {
	_, sys := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Apply(ctx, sys, nil, parse(t, "hostname: a\nruncmd: [x]"), FirstBoot)
	if len(r.Applied) != 0 || !hasError(r, "hostname", "context canceled") || !hasError(r, "runcmd", "context canceled") {
		t.Errorf("cancelled Apply = applied %q, errors %v", r.Applied, r.Errors)
	}
}
