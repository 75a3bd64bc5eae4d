package cloudconfig

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	pathpkg "path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

var (
	ifaceRE      = regexp.MustCompile(`^[A-Za-z0-9_.:*?\[\]-]{1,15}$`)
	serviceRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	sysctlRE     = regexp.MustCompile(`^[a-z0-9_]+([./][A-Za-z0-9_:-]+)+$`)
	moduleRE     = regexp.MustCompile(`^[A-Za-z0-9_-]+( .*)?$`)
	envRE        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	channelRE    = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	ttyRE        = regexp.MustCompile(`^(tty[A-Za-z0-9]*|hvc[0-9]+|console)$`)
	datasourceRE = regexp.MustCompile(`^[a-z0-9_-]+(:.+)?$`)
	bondModes    = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb", "0", "1", "2", "3", "4", "5", "6"}
	hostKeyTypes = []string{"rsa", "ecdsa", "ed25519"}
)

// MinMTU and MaxMTU bound ros.network.interfaces.*.mtu.
const (
	MinMTU = 68
	MaxMTU = 65535
)

func (v *validator) ros(r *ROS) {
	v.network(&r.Network)
	v.services(&r.Services)
	switch r.Engine.Name {
	case "", "docker", "none":
	default:
		v.fail("ros.engine.name", "expected docker or none, got %q", r.Engine.Name)
	}
	for _, k := range sortedKeys(r.Sysctl) {
		if !sysctlRE.MatchString(k) {
			v.fail("ros.sysctl."+k, "%q is not a sysctl name such as net.ipv4.ip_forward", k)
		}
	}
	for i, m := range r.Modules {
		if !moduleRE.MatchString(m) {
			v.fail(fmt.Sprintf("ros.modules[%d]", i), "%q is not a module name (optionally followed by parameters)", m)
		}
	}
	for _, k := range sortedKeys(r.Environment) {
		if !envRE.MatchString(k) {
			v.fail("ros.environment."+k, "%q is not a valid environment variable name", k)
		}
	}
	if u := r.Upgrade.URL; u != "" {
		v.url("ros.upgrade.url", u, "http", "https", "file")
	}
	if ch := r.Upgrade.Channel; ch != "" && !channelRE.MatchString(ch) {
		v.fail("ros.upgrade.channel", "%q is not a channel name (letters, digits, '.', '_', '-')", ch)
	}
	for i, k := range r.Upgrade.PublicKeys {
		if strings.TrimSpace(k) == "" {
			v.fail(fmt.Sprintf("ros.upgrade.public_keys[%d]", i), "empty key")
		}
	}
	if t := r.Upgrade.HealthTimeout; t != "" {
		if d, err := time.ParseDuration(t); err != nil || d <= 0 {
			v.fail("ros.upgrade.health_timeout", "%q is not a positive duration such as 5m or 90s", t)
		}
	}
	v.ssh(&r.SSH)
	for i, t := range r.Console.TTYs {
		if !ttyRE.MatchString(t) {
			v.fail(fmt.Sprintf("ros.console.ttys[%d]", i), "%q is not a terminal such as tty1, ttyS0 or hvc0", t)
		}
	}
	for i, ds := range r.CloudInit.Datasources {
		if !datasourceRE.MatchString(ds) {
			v.fail(fmt.Sprintf("ros.cloud_init.datasources[%d]", i), "%q is not a datasource name (optionally name:argument)", ds)
		}
	}
}

func (v *validator) network(n *Network) {
	owner := map[string]string{} // link name -> key of the entry configuring it
	for _, name := range sortedKeys(n.Interfaces) {
		iface := n.Interfaces[name]
		p := "ros.network.interfaces." + name
		link := name
		switch {
		case iface.Match.Name != "":
			link = iface.Match.Name
			if _, err := pathpkg.Match(link, ""); err != nil || !ifaceRE.MatchString(link) {
				v.fail(p+".match.name", "%q is not an interface name or glob", link)
			}
		case iface.Match.MAC != "":
			link = ""
		case !ifaceRE.MatchString(name):
			v.fail(p, "%q is not an interface name (at most 15 characters, or a glob); give match: to use another key", name)
		}
		if iface.Match.MAC != "" {
			if _, err := net.ParseMAC(iface.Match.MAC); err != nil {
				v.fail(p+".match.mac", "%q is not a MAC address", iface.Match.MAC)
			}
		}
		if link != "" {
			if other, dup := owner[link]; dup {
				v.fail(p, "interface %q is also configured by ros.network.interfaces.%s", link, other)
			}
			owner[link] = name
		}
		for i, a := range iface.Addresses {
			if _, err := netip.ParsePrefix(a); err != nil {
				v.fail(fmt.Sprintf("%s.addresses[%d]", p, i), "%q is not an address with a prefix length, such as 192.168.1.5/24 or 2001:db8::5/64", a)
			}
		}
		if iface.Gateway != "" {
			v.ip(p+".gateway", iface.Gateway, "4")
		}
		if iface.Gateway6 != "" {
			v.ip(p+".gateway6", iface.Gateway6, "6")
		}
		if iface.MTU != 0 && (iface.MTU < MinMTU || iface.MTU > MaxMTU) {
			v.fail(p+".mtu", "expected %d to %d, got %d", MinMTU, MaxMTU, iface.MTU)
		}
		if vl := iface.VLAN; vl != (VLAN{}) {
			if vl.ID < 1 || vl.ID > 4094 {
				v.fail(p+".vlan.id", "expected a VLAN id from 1 to 4094, got %d", vl.ID)
			}
			if !ifaceRE.MatchString(vl.Link) {
				v.fail(p+".vlan.link", "expected the name of the parent interface, got %q", vl.Link)
			}
		}
		if b := iface.Bond; b.Mode != "" || len(b.Slaves) > 0 {
			if b.Mode != "" && !slices.Contains(bondModes, b.Mode) {
				v.fail(p+".bond.mode", "expected one of %s, got %q", strings.Join(bondModes[:7], ", "), b.Mode)
			}
			v.linkNames(p+".bond.slaves", b.Slaves)
		}
		v.linkNames(p+".bridge.ports", iface.Bridge.Ports)
	}
	v.ips("ros.network.dns.nameservers", n.DNS.Nameservers, "")
	v.domains("ros.network.dns.search", n.DNS.Search)
	if n.Proxy.HTTP != "" {
		v.url("ros.network.proxy.http", n.Proxy.HTTP, "http", "https", "socks5")
	}
	if n.Proxy.HTTPS != "" {
		v.url("ros.network.proxy.https", n.Proxy.HTTPS, "http", "https", "socks5")
	}
}

func (v *validator) linkNames(p string, names []string) {
	for i, s := range names {
		if !ifaceRE.MatchString(s) {
			v.fail(fmt.Sprintf("%s[%d]", p, i), "%q is not an interface name", s)
		}
	}
}

func (v *validator) url(p, s string, schemes ...string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		v.fail(p, "not a URL: %v", err)
	case !slices.Contains(schemes, u.Scheme):
		v.fail(p, "expected a %s URL, got %q", strings.Join(schemes, ", "), u.Redacted())
	case u.Scheme != "file" && u.Host == "":
		v.fail(p, "URL %q has no host", u.Redacted())
	}
}

func (v *validator) services(s *Services) {
	for _, l := range []struct {
		key   string
		names []string
	}{{"enable", s.Enable}, {"disable", s.Disable}} {
		for i, n := range l.names {
			if !serviceRE.MatchString(n) {
				v.fail(fmt.Sprintf("ros.services.%s[%d]", l.key, i), "%q is not a service name (lower-case letters, digits, '.', '_', '-')", n)
			}
		}
	}
	for i, n := range s.Enable {
		if slices.Contains(s.Disable, n) {
			v.fail(fmt.Sprintf("ros.services.enable[%d]", i), "service %q is both enabled and disabled", n)
		}
	}
	seen := map[string]bool{}
	for i, d := range s.Definitions {
		p := fmt.Sprintf("ros.services.definitions[%d]", i)
		switch {
		case d == nil:
			v.fail(p, "empty service entry")
		case !serviceRE.MatchString(d.Name):
			v.fail(p+".name", "%q is not a service name", d.Name)
		case seen[d.Name]:
			v.fail(p+".name", "service %q is defined twice", d.Name)
		}
		if d != nil {
			seen[d.Name] = true
		}
	}
}

func (v *validator) ssh(s *SSH) {
	if s.Port < 0 || s.Port > 65535 {
		v.fail("ros.ssh.port", "expected a port from 1 to 65535, got %d", s.Port)
	}
	seen := map[string]bool{}
	for i, k := range s.HostKeys {
		p := fmt.Sprintf("ros.ssh.host_keys[%d]", i)
		if !slices.Contains(hostKeyTypes, k.Type) {
			v.fail(p+".type", "expected one of %s, got %q", strings.Join(hostKeyTypes, ", "), k.Type)
		} else if seen[k.Type] {
			v.fail(p+".type", "a %s host key is given twice", k.Type)
		}
		seen[k.Type] = true
		if k.Private == "" {
			v.fail(p+".private", "missing: a host key needs its private part")
		} else if _, err := ssh.ParseRawPrivateKey([]byte(k.Private)); err != nil {
			v.fail(p+".private", "not an OpenSSH private key: %v", err) // never the key text
		}
		if k.Public != "" {
			if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.Public)); err != nil {
				v.fail(p+".public", "not an SSH public key: %v", err)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
