package cloudconfig

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const keysDoc = `hostname: box
ssh_authorized_keys: [` + keyA + `]
users:
  - default
  - name: bob
    groups: [wheel, docker]
    passwd: "$6$salt$hash"
write_files:
  - {path: /etc/motd, content: hi, permissions: "0600"}
runcmd:
  - echo one
  - [ls, -l]
ntp: {servers: [pool.ntp.org]}
ros:
  network:
    interfaces:
      eth0: {dhcp: false, addresses: [10.0.0.2/24], gateway: 10.0.0.1, mtu: 1400}
      eth0.100: {vlan: {id: 100, link: eth0}, dhcp: true}
    dns: {nameservers: [1.1.1.1, 8.8.8.8]}
  sysctl: {net.ipv4.ip_forward: 1}
  environment: {A: b}
  engine: {name: docker, daemon: {log-opts: {max-size: 5m}, debug: true}}
  ssh: {port: 2222}
`

func TestGet(t *testing.T) {
	c := parseT(t, keysDoc)
	tests := []struct {
		key     string
		want    any
		wantErr error
		msg     string // in the error, when wantErr is set
	}{
		{key: "hostname", want: "box"},
		{key: "ssh_authorized_keys", want: []any{strings.Trim(keyA, "'")}},
		{key: "users[0].name", want: "default"},
		{key: "users[1].groups", want: []any{"wheel", "docker"}},
		{key: "users[1]", want: map[string]any{"name": "bob", "groups": []any{"wheel", "docker"}, "passwd": "$6$salt$hash"}},
		{key: "write_files[0].permissions", want: "0600"},
		{key: "runcmd", want: []any{"echo one", []any{"ls", "-l"}}},
		{key: "ntp.servers[0]", want: "pool.ntp.org"},
		{key: "ros.network.dns.nameservers", want: []any{"1.1.1.1", "8.8.8.8"}},
		{key: "ros.network.interfaces.eth0.mtu", want: 1400},
		{key: "ros.network.interfaces.eth0.dhcp", want: false},
		{key: "ros.network.interfaces.eth0.100.vlan.id", want: 100},
		{key: "ros.sysctl.net.ipv4.ip_forward", want: "1"},
		{key: "ros.sysctl", want: map[string]any{"net.ipv4.ip_forward": "1"}},
		{key: "ros.environment.A", want: "b"},
		{key: "ros.engine.name", want: "docker"},
		{key: "ros.engine.daemon.log-opts.max-size", want: "5m"},
		{key: "ros.engine.daemon.debug", want: true},
		{key: "ros.ssh.port", want: 2222},

		{key: "fqdn", wantErr: ErrNotSet, msg: "fqdn: not set"},
		{key: "timezone", wantErr: ErrNotSet},
		{key: "ssh_pwauth", wantErr: ErrNotSet},
		{key: "users[5].name", wantErr: ErrNotSet},
		{key: "ros.sysctl.vm.swappiness", wantErr: ErrNotSet, msg: "ros.sysctl.vm.swappiness: not set"},
		{key: "ros.network.interfaces.eth1.mtu", wantErr: ErrNotSet},
		{key: "ros.network.interfaces.eth1.200.mtu", wantErr: ErrNotSet},
		{key: "ros.upgrade.url", wantErr: ErrNotSet},
		{key: "ros.engine.daemon.nope", wantErr: ErrNotSet},
		{key: "write_files[0].append", wantErr: ErrNotSet},

		{key: "hostnme", wantErr: ErrUnknownKey, msg: `hostnme: unknown key (did you mean "hostname"?)`},
		{key: "ros.netwrk.dns", wantErr: ErrUnknownKey, msg: `did you mean "ros.network"?`},
		{key: "ros.network.dns.nameserver", wantErr: ErrUnknownKey, msg: `did you mean "ros.network.dns.nameservers"?`},
		{key: "ros.network.interfaces.eth0.mtux", wantErr: ErrUnknownKey, msg: `did you mean "ros.network.interfaces.eth0.mtu"?`},
		{key: "ros.network.interfaces.eth9.mtux", wantErr: ErrUnknownKey},
		{key: "users.name", wantErr: ErrUnknownKey, msg: "users is a list"},
		{key: "hostname.x", wantErr: ErrUnknownKey, msg: "single value"},
		{key: "scripts", wantErr: ErrUnknownKey},
		{key: "", wantErr: ErrUnknownKey},
		{key: "users[x]", wantErr: ErrUnknownKey},
		{key: "ros..network", wantErr: ErrUnknownKey},
	}
	for _, tt := range tests {
		got, err := Get(c, tt.key)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || !strings.Contains(fmtErr(err), tt.msg) {
				t.Errorf("Get(%q) = %v, %v, want error %v containing %q", tt.key, got, err, tt.wantErr, tt.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("Get(%q) = %v, want %v", tt.key, err, tt.want)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Get(%q) mismatch (-want +got):\n%s", tt.key, diff)
		}
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestGetNilAndRedact(t *testing.T) {
	if _, err := Get(nil, "hostname"); !errors.Is(err, ErrNotSet) {
		t.Errorf("Get(nil, hostname) = %v, want ErrNotSet", err)
	}
	c := parseT(t, keysDoc)
	got, err := Get(Redact(c), "users[1].passwd")
	if err != nil || got != Redacted {
		t.Errorf("Get(Redact(c), users[1].passwd) = %v, %v, want %q", got, err, Redacted)
	}
	if c.Users[1].Passwd != "$6$salt$hash" {
		t.Errorf("Redact changed its argument: passwd %q", c.Users[1].Passwd)
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		name, key, value string
		want             string // the whole config after, as YAML for parseT; "" = unchanged base
	}{
		{"scalar", "hostname", "other", strings.Replace(keysDoc, "hostname: box", "hostname: other", 1)},
		{"unset with empty", "hostname", "", strings.Replace(keysDoc, "hostname: box\n", "", 1)},
		{"unset with null", "hostname", "null", strings.Replace(keysDoc, "hostname: box\n", "", 1)},
		{"new top-level", "timezone", "Europe/Paris", keysDoc + "timezone: Europe/Paris\n"},
		{"list replaces", "ssh_authorized_keys", "[" + keyB + "]", strings.Replace(keysDoc, keyA, keyB, 1)},
		{"one-string list", "ssh_authorized_keys", strings.Trim(keyB, "'"), strings.Replace(keysDoc, keyA, keyB, 1)},
		{"list entry field", "users[1].groups", "wheel", strings.Replace(keysDoc, "[wheel, docker]", "[wheel]", 1)},
		{"map value", "ros.sysctl.net.ipv4.ip_forward", "0", strings.Replace(keysDoc, "ip_forward: 1", "ip_forward: 0", 1)},
		{"new map key", "ros.sysctl.vm.swappiness", "10", strings.Replace(keysDoc, "{net.ipv4.ip_forward: 1}", "{net.ipv4.ip_forward: 1, vm.swappiness: 10}", 1)},
		{"delete map key", "ros.environment.A", "", strings.Replace(keysDoc, "  environment: {A: b}\n", "", 1)},
		{"new struct map entry", "ros.network.interfaces.eth1.dhcp", "true",
			strings.Replace(keysDoc, "    dns:", "      eth1: {dhcp: true}\n    dns:", 1)},
		{"dotted struct map entry", "ros.network.interfaces.eth0.100.vlan.id", "200", strings.Replace(keysDoc, "id: 100", "id: 200", 1)},
		{"new dotted entry", "ros.network.interfaces.eth1.7.mtu", "1500",
			strings.Replace(keysDoc, "    dns:", "      eth1.7: {mtu: 1500}\n    dns:", 1)},
		{"mapping value", "ros.network.dns", "{nameservers: [9.9.9.9], search: [lan]}",
			strings.Replace(keysDoc, "{nameservers: [1.1.1.1, 8.8.8.8]}", "{nameservers: [9.9.9.9], search: [lan]}", 1)},
		{"short engine form", "ros.engine", "none", strings.Replace(keysDoc, "{name: docker, daemon: {log-opts: {max-size: 5m}, debug: true}}", "none", 1)},
		{"daemon.json nested", "ros.engine.daemon.log-opts.max-file", "'3'", strings.Replace(keysDoc, "{max-size: 5m}", "{max-size: 5m, max-file: '3'}", 1)},
		{"bool pointer", "ssh_pwauth", "false", keysDoc + "ssh_pwauth: false\n"},
		{"unquoted permissions", "write_files[0].permissions", "0644", strings.Replace(keysDoc, `"0600"`, `"0644"`, 1)},
		{"runcmd list", "runcmd", "[reboot]", strings.Replace(keysDoc, "  - echo one\n  - [ls, -l]\n", "  - reboot\n", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := parseT(t, keysDoc)
			before := Clone(base)
			got, warn, err := Set(base, tt.key, tt.value)
			if err != nil || len(warn) > 0 {
				t.Fatalf("Set(%q, %q) = %v, warnings %v", tt.key, tt.value, err, warn)
			}
			want := parseT(t, tt.want)
			if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Config{}), cmpopts.EquateEmpty(), imageCmp); diff != "" {
				t.Errorf("Set(%q, %q) mismatch (-want +got):\n%s", tt.key, tt.value, diff)
			}
			if diff := cmp.Diff(before, base, cmpopts.IgnoreUnexported(Config{}), imageCmp); diff != "" {
				t.Errorf("Set changed its argument:\n%s", diff)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    error
		msg        string
	}{
		{"hostname", "bad host", ErrInvalid, `set: hostname: "bad host" is not a valid host name`},
		{"ros.network.interfaces.eth0.mtu", "big", ErrInvalid, `set: ros.network.interfaces.eth0.mtu: expected an integer, got "big"`},
		{"ros.network.interfaces.eth0.mtu", "10", ErrInvalid, "ros.network.interfaces.eth0.mtu"},
		{"ros.network.dns", "{nameservers: [1.1.1.1,\n  notanip]}", ErrInvalid, "set:2: ros.network.dns.nameservers[1]"},
		{"ros.ssh.port", "[1]", ErrInvalid, "ros.ssh.port: expected an integer, got a list"},
		{"ssh_authorized_keys", "[nope]", ErrInvalid, "ssh_authorized_keys[0]: not an SSH public key"},
		{"hostname", "[", ErrInvalid, "set: hostname: YAML syntax"},
		{"users[9].name", "x", ErrInvalid, "users has 2 entries"},
		{"hostnme", "x", ErrUnknownKey, `did you mean "hostname"?`},
		{"ros.sysctl", "x", ErrInvalid, "ros.sysctl: expected a mapping"},
		{"hostname.x", "y", ErrUnknownKey, "single value"},
		{"hostname", "a\n---\nb", ErrInvalid, "set:2: hostname: more than one YAML document"},
	}
	for _, tt := range tests {
		base := parseT(t, keysDoc)
		got, _, err := Set(base, tt.key, tt.value)
		if got != nil || !errors.Is(err, tt.wantErr) || !strings.Contains(fmtErr(err), tt.msg) {
			t.Errorf("Set(%q, %q) = %v, %v, want error %v containing %q", tt.key, tt.value, got, err, tt.wantErr, tt.msg)
		}
	}
}

func TestSetWarnsUnknownInValue(t *testing.T) {
	_, warn, err := Set(&Config{}, "ros.network.dns", "{nameservers: [1.1.1.1], serch: [lan]}")
	if err != nil || len(warn) != 1 || !strings.Contains(warn.String(), `set: ros.network.dns.serch: unknown key, ignored (did you mean "search"?)`) {
		t.Errorf("Set with a mistyped sub-key = %v, warnings %q, want one warning naming serch", err, warn)
	}
}

func TestSetKeepsScripts(t *testing.T) {
	c := &Config{Scripts: []Script{{Source: "user-data", Content: []byte("#!/bin/sh\n")}}}
	got, _, err := Set(c, "hostname", "a")
	if err != nil || len(got.Scripts) != 1 || got.Hostname != "a" {
		t.Errorf("Set(scripts config, hostname, a) = %+v, %v, want scripts kept", got, err)
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"same", keysDoc, keysDoc, nil},
		{"nothing to something", "", "hostname: a\nros: {sysctl: {a.b: 1}}", []string{"hostname", "ros.sysctl"}},
		{"something to nothing", "ntp: {servers: [a]}\nros: {modules: [x]}", "", []string{"ntp", "ros.modules"}},
		{"empty equals absent", "ros: {modules: []}\nruncmd: []", "", nil},
		{"explicit false differs", "", "ssh_pwauth: false", []string{"ssh_pwauth"}},
		{"nested change", keysDoc, strings.Replace(keysDoc, "mtu: 1400", "mtu: 1500", 1), []string{"ros.network"}},
		{"user key", keysDoc, strings.Replace(keysDoc, "[wheel, docker]", "[wheel]", 1), []string{"users"}},
		{"several sorted", keysDoc, strings.Replace(strings.Replace(strings.Replace(keysDoc, "port: 2222", "port: 22", 1),
			"hostname: box", "hostname: b", 1), "{A: b}", "{A: c}", 1), []string{"hostname", "ros.environment", "ros.ssh"}},
		{"daemon.json", "ros: {engine: {daemon: {a: 1}}}", "ros: {engine: {daemon: {a: 2}}}", []string{"ros.engine"}},
		{"definitions", "ros: {services: {definitions: [{name: a, image: alpine}]}}",
			"ros: {services: {definitions: [{name: a, image: busybox}]}}", []string{"ros.services"}},
		{"same definitions from two documents", "ros: {services: {definitions: [{name: a, image: alpine}]}}",
			"\n\nros: {services: {definitions: [{name: a, image: alpine}]}}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(parseT(t, tt.old), parseT(t, tt.new))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Diff(%q, %q) mismatch (-want +got):\n%s", tt.old, tt.new, diff)
			}
		})
	}
	scripts := &Config{Scripts: []Script{{Content: []byte("#!/bin/sh\n")}}}
	if got := Diff(nil, scripts); !cmp.Equal(got, []string{"scripts"}) {
		t.Errorf("Diff(nil, scripts) = %v, want [scripts]", got)
	}
	if got := Diff(nil, nil); len(got) != 0 {
		t.Errorf("Diff(nil, nil) = %v, want none", got)
	}
}

func TestAliasKeys(t *testing.T) {
	c := &Config{ROS: ROS{Network: Network{DNS: DNS{Nameservers: []string{"1.1.1.1"}}}}, NTP: NTP{Servers: []string{"ntp.example"}}}
	tests := []struct {
		key     string
		want    string
		wantErr string
	}{
		{"rancher.network.dns.nameservers", "[1.1.1.1]", ""},
		{"k3os.dns_nameservers", "[1.1.1.1]", ""},
		{"k3os.ntp_servers", "[ntp.example]", ""},
		{"rancher.ssh.keys", "", "use ros.ssh.host_keys"},
		{"rancher.state.dev", "", "no ros equivalent"},
	}
	for _, tt := range tests {
		got, err := Get(c, tt.key)
		if tt.wantErr != "" {
			if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Get(%s) = %v, %v, want ErrUnknownKey containing %q", tt.key, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("Get(%s) = %v, %v, want %s", tt.key, got, err, tt.want)
		}
	}
	set, _, err := Set(c, "rancher.sysctl.vm.swappiness", "10")
	if err != nil || set.ROS.Sysctl["vm.swappiness"] != "10" {
		t.Errorf("Set(rancher.sysctl.vm.swappiness) = %+v, %v, want ros.sysctl set", set.ROS.Sysctl, err)
	}
}
