package cloudconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"hostname underscore", "hostname: my_box", `user-data:2: hostname: "my_box" is not a valid host name`},
		{"hostname leading hyphen", "hostname: -box", `hostname: "-box" is not a valid host name`},
		{"hostname long label", "hostname: " + strings.Repeat("a", 64), `hostname:`},
		{"fqdn", "fqdn: a..b", `fqdn: "a..b" is not a valid host name`},
		{"ssh key", "ssh_authorized_keys: [not-a-key]", `ssh_authorized_keys[0]: not an SSH public key`},
		{"relative path", "write_files: [{path: etc/x}]", `user-data:2: write_files[0].path: "etc/x" is not an absolute path`},
		{"missing path", "write_files: [{content: x}]", `write_files[0].path: missing`},
		{"directory path", "write_files: [{path: /etc/}]", `write_files[0].path: "/etc/" names a directory`},
		{"permissions not octal", "write_files: [{path: /x, permissions: '0688'}]", `user-data:2: write_files[0].permissions: expected an octal mode`},
		{"permissions too big", "write_files: [{path: /x, permissions: '017777'}]", `write_files[0].permissions:`},
		{"encoding", "write_files: [{path: /x, encoding: rot13}]", `write_files[0].encoding: expected text, b64`},
		{"bad base64", "write_files: [{path: /x, encoding: b64, content: '!!!'}]", `write_files[0].content: decode base64`},
		{"gzip not gzip", "write_files: [{path: /x, encoding: gz+b64, content: aGVsbG8=}]", `write_files[0].content: invalid cloud-config: encoding "gz+b64" but the content is not gzip`},
		{"owner", "write_files: [{path: /x, owner: 'a b'}]", `write_files[0].owner: expected user or user:group`},
		{"user name", "users: [{name: Bob}]", `users[0].name: "Bob" is not a valid user name`},
		{"duplicate user", "users: [{name: bob}, {name: bob}]", `users[1].name: user "bob" is also users[0]`},
		{"user shell", "users: [{name: bob, shell: bash}]", `users[0].shell: "bash" is not an absolute path`},
		{"empty command", "runcmd: ['']", `runcmd[0]: empty command`},
		{"mount fields", "mounts: [[/dev/sdb]]", `mounts[0]: expected 2 to 6 fstab fields`},
		{"mount point", "mounts: [[/dev/sdb, data]]", `mounts[0]: mount point "data" is not an absolute path`},
		{"ntp server", "ntp: {servers: ['bad host']}", `ntp.servers[0]: "bad host" is neither an IP address nor a host name`},
		{"timezone", "timezone: ../../etc/passwd", `timezone: "../../etc/passwd" is not a time zone name`},
		{"resolv nameserver", "resolv_conf: {nameservers: [1.1.1]}", `resolv_conf.nameservers[0]: "1.1.1" is not an IP address`},
		{"etc hosts", "manage_etc_hosts: sometimes", `manage_etc_hosts: expected true, false, template or localhost`},
		{"address", "ros: {network: {interfaces: {eth0: {addresses: [10.0.0.1]}}}}", `user-data:2: ros.network.interfaces.eth0.addresses[0]: "10.0.0.1" is not an address with a prefix length`},
		{"gateway family", "ros: {network: {interfaces: {eth0: {gateway: 'fe80::1'}}}}", `ros.network.interfaces.eth0.gateway: "fe80::1" is not an IPv4 address`},
		{"gateway6 family", "ros: {network: {interfaces: {eth0: {gateway6: 10.0.0.1}}}}", `ros.network.interfaces.eth0.gateway6: "10.0.0.1" is not an IPv6 address`},
		{"mtu low", "ros: {network: {interfaces: {eth0: {mtu: 10}}}}", `ros.network.interfaces.eth0.mtu: expected 68 to 65535, got 10`},
		{"mtu high", "ros: {network: {interfaces: {eth0: {mtu: 70000}}}}", `ros.network.interfaces.eth0.mtu: expected 68 to 65535, got 70000`},
		{"vlan id", "ros: {network: {interfaces: {v: {vlan: {id: 4095, link: eth0}}}}}", `ros.network.interfaces.v.vlan.id: expected a VLAN id from 1 to 4094, got 4095`},
		{"vlan link", "ros: {network: {interfaces: {v: {vlan: {id: 5}}}}}", `ros.network.interfaces.v.vlan.link: expected the name of the parent interface`},
		{"bond mode", "ros: {network: {interfaces: {bond0: {bond: {mode: fast}}}}}", `ros.network.interfaces.bond0.bond.mode: expected one of balance-rr`},
		{"duplicate interface", "ros: {network: {interfaces: {eth0: {}, wan: {match: {name: eth0}}}}}", `ros.network.interfaces.wan: interface "eth0" is also configured by ros.network.interfaces.eth0`},
		{"interface name", "ros: {network: {interfaces: {averyveryverylongname: {}}}}", `ros.network.interfaces.averyveryverylongname: "averyveryverylongname" is not an interface name`},
		{"match glob", "ros: {network: {interfaces: {x: {match: {name: 'eth['}}}}}", `ros.network.interfaces.x.match.name: "eth[" is not an interface name or glob`},
		{"match mac", "ros: {network: {interfaces: {x: {match: {mac: 'zz:zz'}}}}}", `ros.network.interfaces.x.match.mac: "zz:zz" is not a MAC address`},
		{"dns", "ros: {network: {dns: {nameservers: [one]}}}", `ros.network.dns.nameservers[0]: "one" is not an IP address`},
		{"proxy", "ros: {network: {proxy: {http: 'ftp://p'}}}", `ros.network.proxy.http: expected a http, https, socks5 URL`},
		{"service name", "ros: {services: {enable: [Bad Name]}}", `ros.services.enable[0]: "Bad Name" is not a service name`},
		{"service both", "ros: {services: {enable: [a], disable: [a]}}", `ros.services.enable[0]: service "a" is both enabled and disabled`},
		{"engine", "ros: {engine: podman}", `user-data:2: ros.engine.name: expected docker or none, got "podman"`},
		{"sysctl", "ros: {sysctl: {'bad key': 1}}", `ros.sysctl.bad key: "bad key" is not a sysctl name`},
		{"module", "ros: {modules: ['']}", `ros.modules[0]: "" is not a module name`},
		{"environment", "ros: {environment: {1X: a}}", `ros.environment.1X: "1X" is not a valid environment variable name`},
		{"upgrade url", "ros: {upgrade: {url: 'https://'}}", `ros.upgrade.url: URL "https:" has no host`},
		{"channel", "ros: {upgrade: {channel: 'a b'}}", `ros.upgrade.channel: "a b" is not a channel name`},
		{"health timeout", "ros: {upgrade: {health_timeout: soon}}", `ros.upgrade.health_timeout: "soon" is not a positive duration`},
		{"ssh port", "ros: {ssh: {port: 70000}}", `ros.ssh.port: expected a port from 1 to 65535, got 70000`},
		{"host key type", "ros: {ssh: {host_keys: [{type: dsa, private: x}]}}", `ros.ssh.host_keys[0].type: expected one of rsa, ecdsa, ed25519, got "dsa"`},
		{"host key private", "ros: {ssh: {host_keys: [{type: rsa, private: NOTAKEY-SECRET}]}}", `ros.ssh.host_keys[0].private: not an OpenSSH private key`},
		{"tty", "ros: {console: {ttys: [/dev/ttyS0]}}", `ros.console.ttys[0]: "/dev/ttyS0" is not a terminal`},
		{"datasource", "ros: {cloud_init: {datasources: [EC2]}}", `ros.cloud_init.datasources[0]: "EC2" is not a datasource name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "#cloud-config\n" + tt.in + "\n"
			_, _, err := Parse("user-data", []byte(in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %v, want error containing %q", tt.in, err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) || e.Line == 0 {
				t.Errorf("Parse(%q) error %#v is not an *Error with a line wrapping ErrInvalid", tt.in, err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("Parse(%q) error shows the secret: %v", tt.in, err)
			}
		})
	}
}

func TestValidateJoinsAll(t *testing.T) {
	in := "#cloud-config\nhostname: a_b\nros:\n  ssh:\n    port: -1\n"
	_, _, err := Parse("user-data", []byte(in))
	if err == nil {
		t.Fatal("Parse = nil, want two errors")
	}
	want := "user-data:2: hostname: \"a_b\" is not a valid host name (RFC 1123: letters, digits and '-', labels of 1 to 63)\n" +
		"user-data:5: ros.ssh.port: expected a port from 1 to 65535, got -1"
	if err.Error() != want {
		t.Errorf("Parse = %q, want %q", err, want)
	}
}

func TestValidateWithoutPositions(t *testing.T) {
	c := &Config{Hostname: "bad_name"}
	err := c.Validate()
	if err == nil || err.Error() != `config: hostname: "bad_name" is not a valid host name (RFC 1123: letters, digits and '-', labels of 1 to 63)` {
		t.Errorf("Validate() = %v", err)
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Errorf("Validate() of an empty config = %v, want nil", err)
	}
}
