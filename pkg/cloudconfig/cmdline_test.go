package cloudconfig

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFromCmdline(t *testing.T) {
	tests := []struct {
		name, cmdline, want string // want: the same config as cloud-config YAML
	}{
		{"hostname and dns", "quiet ros.network.dns.nameservers=[1.1.1.1,8.8.8.8] ros.hostname=box console=ttyS0",
			"hostname: box\nros: {network: {dns: {nameservers: [1.1.1.1, 8.8.8.8]}}}"},
		{"rancher prefix", "rancher.network.dns.nameservers=[9.9.9.9] rancher.ssh.port=2200",
			"ros: {network: {dns: {nameservers: [9.9.9.9]}}, ssh: {port: 2200}}"},
		{"k3os prefix", "k3os.ntp_servers=[ntp.lan] k3os.modules=[kvm]", "ntp: {servers: [ntp.lan]}\nros: {modules: [kvm]}"},
		{"sysctl keys keep their dots", "ros.sysctl.net.ipv4.ip_forward=1 rancher.sysctl.vm.swappiness=10",
			"ros: {sysctl: {net.ipv4.ip_forward: '1', vm.swappiness: '10'}}"},
		{"interface keys", "ros.network.interfaces.eth0.dhcp=false ros.network.interfaces.eth0.mtu=9000 ros.network.interfaces.eth1.addresses=[10.0.0.2/24]",
			"ros: {network: {interfaces: {eth0: {dhcp: false, mtu: 9000}, eth1: {addresses: [10.0.0.2/24]}}}}"},
		{"flag is true", "ros.network.interfaces.eth0.dhcp", "ros: {network: {interfaces: {eth0: {dhcp: true}}}}"},
		{"mapping value", `"ros.engine={name: docker, args: [--debug]}"`, "ros: {engine: {name: docker, args: [--debug]}}"},
		{"later wins", "ros.hostname=a ros.hostname=b", "hostname: b"},
		{"quoted value", `ros.environment.GREETING="hello world"`, "ros: {environment: {GREETING: hello world}}"},
		{"boot params skipped", "ros.slot=A ros.live ros.debug ros.rootwait=5 root=/dev/sda", ""},
		{"quoted list", `"ros.ssh_authorized_keys=[` + strings.Trim(keyA, "'") + `]"`, "ssh_authorized_keys: [" + keyA + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc, w, err := FromCmdline(cmdlineParams(tt.cmdline))
			if err != nil || len(w) > 0 {
				t.Fatalf("FromCmdline(%q) = %v, warnings %v", tt.cmdline, err, w)
			}
			want := parseT(t, tt.want)
			if diff := cmp.Diff(want, kc.Config, cmpopts.IgnoreUnexported(Config{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("FromCmdline(%q) mismatch (-want +got):\n%s", tt.cmdline, diff)
			}
		})
	}
}

func TestFromCmdlineUserData(t *testing.T) {
	// base64 of "#cloud-config\nhostname: b64\n"
	kc, _, err := FromCmdline(cmdlineParams("ros.config.url=http://10.0.2.2/ud ros.config.b64=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogYjY0Cg=="))
	if err != nil {
		t.Fatal(err)
	}
	if kc.URL != "http://10.0.2.2/ud" || string(kc.UserData) != "#cloud-config\nhostname: b64\n" {
		t.Errorf("FromCmdline = url %q, user-data %q", kc.URL, kc.UserData)
	}
	c, _, err := Parse(CmdlineSource, kc.UserData)
	if err != nil || c.Hostname != "b64" {
		t.Errorf("Parse(decoded ros.config.b64) = %+v, %v", c, err)
	}
	kc, _, err = FromCmdline(cmdlineParams("rancher.config.url=http://x/y ros.config.b64=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogYjY0Cg"))
	if err != nil || kc.URL != "http://x/y" || len(kc.UserData) == 0 {
		t.Errorf("FromCmdline(rancher.config.url, unpadded b64) = %+v, %v", kc, err)
	}
}

func TestFromCmdlineErrors(t *testing.T) {
	tests := []struct{ cmdline, want string }{
		{"ros.network.interfaces.eth0.mtu=big", `cmdline: ros.network.interfaces.eth0.mtu: expected an integer, got "big"`},
		{"ros.config.b64=%%%", `cmdline: ros.config.b64: not base64`},
		{"ros.hostname=bad_name", `cmdline: hostname: "bad_name" is not a valid host name`},
		{"ros.network.dns.nameservers=[x]", `ros.network.dns.nameservers[0]: "x" is not an IP address`},
		{"ros.sysctl.vm.swappiness=\xff", `cmdline: ros.sysctl.vm.swappiness: not valid UTF-8`}, // found by FuzzFromCmdline
	}
	for _, tt := range tests {
		_, _, err := FromCmdline(cmdlineParams(tt.cmdline))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromCmdline(%q) = %v, want error containing %q", tt.cmdline, err, tt.want)
		}
	}
}

func TestFromCmdlineWarnings(t *testing.T) {
	kc, w, err := FromCmdline(cmdlineParams("ros.nosuch=1 ros.hostname.x=2 ros.ros.hostname=3 rancher.console=ubuntu ros.network.bogus=1 ros.hostname=ok"))
	if err != nil {
		t.Fatal(err)
	}
	got := w.String()
	for _, want := range []string{"cmdline: ros.nosuch: unknown key, ignored", "cmdline: ros.hostname.x: unknown key", "cmdline: ros.ros.hostname: unknown key",
		"cmdline: rancher.console: not supported by ros", "cmdline: ros.network.bogus: unknown key"} {
		if !strings.Contains(got, want) {
			t.Errorf("FromCmdline warnings =\n%s\nwant one containing %q", got, want)
		}
	}
	if kc.Config.Hostname != "ok" {
		t.Errorf("FromCmdline hostname = %q, want ok", kc.Config.Hostname)
	}
}
