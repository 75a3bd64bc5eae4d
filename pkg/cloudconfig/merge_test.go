package cloudconfig

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func parseT(t *testing.T, yml string) *Config {
	t.Helper()
	c, w, err := Parse("test", []byte("#cloud-config\n"+yml))
	if err != nil || len(w) > 0 {
		t.Fatalf("Parse(%q) = %v, warnings %v", yml, err, w)
	}
	return c
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name             string
		base, over, want string
	}{
		{"scalar later wins", "hostname: a\ntimezone: UTC", "hostname: b", "hostname: b\ntimezone: UTC"},
		{"unset keeps base", "hostname: a", "timezone: UTC", "hostname: a\ntimezone: UTC"},
		{"explicit false wins", "ros: {network: {interfaces: {eth0: {dhcp: true}}}}", "ros: {network: {interfaces: {eth0: {dhcp: false}}}}",
			"ros: {network: {interfaces: {eth0: {dhcp: false}}}}"},
		{"maps merge recursively", "ros: {sysctl: {a.b: 1, c.d: 2}, network: {interfaces: {eth0: {dhcp: true, mtu: 1500}}}}",
			"ros: {sysctl: {c.d: 3}, network: {interfaces: {eth0: {mtu: 9000}, eth1: {dhcp: true}}}}",
			"ros: {sysctl: {a.b: 1, c.d: 3}, network: {interfaces: {eth0: {dhcp: true, mtu: 9000}, eth1: {dhcp: true}}}}"},
		{"daemon.json merges recursively", "ros: {engine: {name: docker, daemon: {a: 1, log-opts: {max-size: 1m, max-file: '3'}}}}",
			"ros: {engine: {daemon: {log-opts: {max-size: 5m}}}}",
			"ros: {engine: {name: docker, daemon: {a: 1, log-opts: {max-size: 5m, max-file: '3'}}}}"},
		{"ssh keys append without repeats", "ssh_authorized_keys: [" + keyA + "]", "ssh_authorized_keys: [" + keyA + ", " + keyB + "]",
			"ssh_authorized_keys: [" + keyA + ", " + keyB + "]"},
		{"write_files append", "write_files: [{path: /a}]", "write_files: [{path: /b}]", "write_files: [{path: /a}, {path: /b}]"},
		{"runcmd and bootcmd append", "runcmd: [a]\nbootcmd: [x]", "runcmd: [b, a]\nbootcmd: [y]", "runcmd: [a, b, a]\nbootcmd: [x, y]"},
		{"users merge by name", "users: [{name: bob, shell: /bin/sh, ssh_authorized_keys: [" + keyA + "]}, {name: amy}]",
			"users: [{name: bob, groups: [wheel], ssh_authorized_keys: [" + keyB + "]}, {name: cat}]",
			"users: [{name: bob, shell: /bin/sh, groups: [wheel], ssh_authorized_keys: [" + keyA + ", " + keyB + "]}, {name: amy}, {name: cat}]"},
		{"other lists replace", "ntp: {servers: [a, b]}\nros: {modules: [x], network: {dns: {nameservers: [1.1.1.1]}}}",
			"ntp: {servers: [c]}\nros: {modules: [y], network: {dns: {nameservers: [8.8.8.8]}}}",
			"ntp: {servers: [c]}\nros: {modules: [y], network: {dns: {nameservers: [8.8.8.8]}}}"},
		{"enable and disable unite", "ros: {services: {enable: [a, b], disable: [c, d]}}", "ros: {services: {enable: [c], disable: [a]}}",
			"ros: {services: {enable: [b, c], disable: [d, a]}}"},
		{"definitions by name", "ros: {services: {definitions: [{name: a, image: alpine}, {name: b, image: alpine}]}}",
			"ros: {services: {definitions: [{name: a, image: busybox}, {name: c, image: alpine}]}}",
			"ros: {services: {definitions: [{name: a, image: busybox}, {name: b, image: alpine}, {name: c, image: alpine}]}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, over, want := parseT(t, tt.base), parseT(t, tt.over), parseT(t, tt.want)
			baseCopy := Clone(base)
			got := Merge(base, over)
			if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Config{}), cmpopts.EquateEmpty(), imageCmp); diff != "" {
				t.Errorf("Merge(%s, %s) mismatch (-want +got):\n%s", tt.base, tt.over, diff)
			}
			if diff := cmp.Diff(baseCopy, base, cmpopts.IgnoreUnexported(Config{}), imageCmp); diff != "" {
				t.Errorf("Merge changed its base:\n%s", diff)
			}
		})
	}
}

func TestMergeNil(t *testing.T) {
	c := &Config{Hostname: "a"}
	if got := Merge(nil, c); got.Hostname != "a" || got == c {
		t.Errorf("Merge(nil, c) = %+v, want a copy of c", got)
	}
	if got := Merge(c, nil); got.Hostname != "a" || got == c {
		t.Errorf("Merge(c, nil) = %+v, want a copy of c", got)
	}
	if got := Merge(nil, nil); got == nil {
		t.Error("Merge(nil, nil) = nil, want an empty config")
	}
}

// TestMergeOrder merges the four layers of a machine in order.
func TestMergeOrder(t *testing.T) {
	image := parseT(t, "hostname: ros\nros: {engine: docker, console: {ttys: [tty1]}}")
	saved := parseT(t, "hostname: saved\nssh_authorized_keys: ["+keyA+"]")
	ds := parseT(t, "hostname: from-cloud\nssh_authorized_keys: ["+keyB+"]\nros: {console: {ttys: [ttyS0]}}")
	kc, _, err := FromCmdline(cmdlineParams("ros.hostname=from-cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	got := Merge(Merge(Merge(image, saved), ds), kc.Config)
	if got.Hostname != "from-cmdline" || len(got.SSHAuthorizedKeys) != 2 || got.ROS.Engine.Name != "docker" ||
		len(got.ROS.Console.TTYs) != 1 || got.ROS.Console.TTYs[0] != "ttyS0" {
		t.Errorf("merged = %+v", got)
	}
}

const (
	keyA = "'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb3jd+S/d0bV4g7cK4cn+UhFwT0SqVeQFyOzxB/1Qq3 a'"
	keyB = "'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb3jd+S/d0bV4g7cK4cn+UhFwT0SqVeQFyOzxB/1Qq3 b'"
)
