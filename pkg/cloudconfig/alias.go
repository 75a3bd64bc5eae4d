package cloudconfig

import (
	"fmt"
	"net"
	"strings"

	"gopkg.in/yaml.v3"
)

// alias maps a key of the rancher: or k3os: section to where it goes in a
// ros config. conv, when set, reshapes the value.
type alias struct {
	from, to string
	conv     func(d *decoder, n *yaml.Node, p path) *yaml.Node
}

// rancherAliases and k3osAliases are the tables doc.go shows. A key of
// either section not listed here is warned about and ignored.
var rancherAliases = []alias{
	{from: "network.interfaces", to: "ros.network.interfaces", conv: rancherInterfaces},
	{from: "network.dns.nameservers", to: "ros.network.dns.nameservers"},
	{from: "network.dns.search", to: "ros.network.dns.search"},
	{from: "network.http_proxy", to: "ros.network.proxy.http"},
	{from: "network.https_proxy", to: "ros.network.proxy.https"},
	{from: "network.no_proxy", to: "ros.network.proxy.no_proxy"},
	{from: "sysctl", to: "ros.sysctl"},
	{from: "modules", to: "ros.modules"},
	{from: "environment", to: "ros.environment"},
	{from: "upgrade.url", to: "ros.upgrade.url"},
	{from: "ssh.port", to: "ros.ssh.port"},
	{from: "ssh.keys", to: "ros.ssh.host_keys", conv: rancherHostKeys},
	{from: "docker.extra_args", to: "ros.engine.args"},
	{from: "services_include", to: "ros.services", conv: rancherServices},
	{from: "cloud_init.datasources", to: "ros.cloud_init.datasources"},
	{from: "password", to: "users", conv: defaultUserPassword},
}

var k3osAliases = []alias{
	{from: "modules", to: "ros.modules"},
	{from: "sysctl", to: "ros.sysctl"},
	{from: "environment", to: "ros.environment"},
	{from: "dns_nameservers", to: "ros.network.dns.nameservers"},
	{from: "ntp_servers", to: "ntp.servers"},
	{from: "data_sources", to: "ros.cloud_init.datasources"},
	{from: "password", to: "users", conv: defaultUserPassword},
}

// topAliases are k3OS's spellings of top-level cloud-init keys.
var topAliases = map[string]string{"run_cmd": "runcmd", "boot_cmd": "bootcmd"}

// translate rewrites an alias section (named section, e.g. "rancher") into
// a document root in ros spelling. The nodes are reused, so lines hold.
func translate(d *decoder, section *yaml.Node, name string, table []alias) *yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode, Line: section.Line}
	var walk func(n *yaml.Node, from string)
	walk = func(n *yaml.Node, from string) {
		for _, kv := range pairs(n) {
			k := kv.k.Value
			if from != "" {
				k = from + "." + k
			}
			vn := deref(kv.v)
			if a, ok := findAlias(table, k); ok {
				if a.conv != nil {
					vn = a.conv(d, vn, path(name+"."+k))
				}
				if vn != nil {
					place(root, strings.Split(a.to, "."), vn)
				}
				continue
			}
			if vn.Kind == yaml.MappingNode && hasAliasUnder(table, k) {
				walk(vn, k)
				continue
			}
			d.warnf(kv.k, path(name+"."+k), "not supported by ros, ignored (see the alias table in the cloudconfig docs)")
		}
	}
	if section = deref(section); section.Kind == yaml.MappingNode {
		walk(section, "")
	} else if section.ShortTag() != "!!null" {
		d.warnf(section, path(name), "expected a mapping, got %s; ignored", kindName(section))
	}
	return root
}

func findAlias(table []alias, from string) (alias, bool) {
	for _, a := range table {
		if a.from == from {
			return a, true
		}
	}
	return alias{}, false
}

func hasAliasUnder(table []alias, prefix string) bool {
	for _, a := range table {
		if strings.HasPrefix(a.from, prefix+".") {
			return true
		}
	}
	return false
}

// place sets the value at the path keys under root, creating mappings on
// the way and merging into a mapping already there.
func place(root *yaml.Node, keys []string, v *yaml.Node) {
	n := root
	for i, k := range keys {
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				next = n.Content[j+1]
			}
		}
		last := i == len(keys)-1
		switch {
		case next == nil && last:
			n.Content = append(n.Content, scalarNode(k, v.Line), v)
			return
		case next == nil:
			next = &yaml.Node{Kind: yaml.MappingNode, Line: v.Line}
			n.Content = append(n.Content, scalarNode(k, v.Line), next)
		case last && next.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			next.Content = append(next.Content, v.Content...)
			return
		case last:
			*next = *v
			return
		}
		n = next
	}
}

func scalarNode(v string, line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: line}
}

func seqNode(line int, items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Line: line, Content: items}
}

func mapNode(line int, kvs ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Line: line, Content: kvs}
}

// rancherInterfaces reads RancherOS interface entries: address becomes
// addresses, gateway_ipv6 becomes gateway6, match (a name glob or a MAC)
// becomes match.name or match.mac; bonds, bridges and vlans are spelled
// differently enough that they are left to the ros: section.
func rancherInterfaces(d *decoder, n *yaml.Node, p path) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return n // the decoder names the error
	}
	out := mapNode(n.Line)
	for _, iface := range pairs(n) {
		in := deref(iface.v)
		if in.Kind != yaml.MappingNode {
			out.Content = append(out.Content, iface.k, in)
			continue
		}
		o := mapNode(in.Line)
		var addrs []*yaml.Node
		for _, kv := range pairs(in) {
			k, v := kv.k.Value, deref(kv.v)
			switch k {
			case "dhcp", "mtu", "gateway":
				o.Content = append(o.Content, kv.k, v)
			case "gateway_ipv6":
				o.Content = append(o.Content, scalarNode("gateway6", kv.k.Line), v)
			case "address":
				addrs = append(addrs, v)
			case "addresses":
				if v.Kind == yaml.SequenceNode {
					addrs = append(addrs, v.Content...)
				} else {
					addrs = append(addrs, v)
				}
			case "match":
				field := "name"
				if _, err := net.ParseMAC(v.Value); err == nil {
					field = "mac"
				}
				o.Content = append(o.Content, kv.k, mapNode(v.Line, scalarNode(field, v.Line), v))
			default:
				d.warnf(kv.k, p.key(iface.k.Value).key(k), "not translated from rancher:, ignored; write it under ros.network.interfaces")
			}
		}
		if addrs != nil {
			o.Content = append(o.Content, scalarNode("addresses", addrs[0].Line), seqNode(addrs[0].Line, addrs...))
		}
		out.Content = append(out.Content, iface.k, o)
	}
	return out
}

// rancherHostKeys reads rancher.ssh.keys (ssh_host_TYPE_key and
// ssh_host_TYPE_key.pub) into host_keys entries.
func rancherHostKeys(d *decoder, n *yaml.Node, p path) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return n
	}
	byType := map[string]*yaml.Node{}
	out := seqNode(n.Line)
	for _, kv := range pairs(n) {
		name := strings.TrimPrefix(kv.k.Value, "ssh_host_")
		field := "private"
		if strings.HasSuffix(name, ".pub") {
			name, field = strings.TrimSuffix(name, ".pub"), "public"
		}
		typ, ok := strings.CutSuffix(name, "_key")
		if !ok || typ == "" {
			d.warnf(kv.k, p.key(kv.k.Value), "expected ssh_host_TYPE_key or ssh_host_TYPE_key.pub, ignored")
			continue
		}
		e := byType[typ]
		if e == nil {
			e = mapNode(kv.k.Line, scalarNode("type", kv.k.Line), scalarNode(typ, kv.k.Line))
			byType[typ] = e
			out.Content = append(out.Content, e)
		}
		e.Content = append(e.Content, scalarNode(field, kv.k.Line), deref(kv.v))
	}
	return out
}

// rancherServices reads services_include (service: true|false) into
// enable and disable lists.
func rancherServices(d *decoder, n *yaml.Node, p path) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		d.warnf(n, p, "expected a mapping of service names to true or false, got %s; ignored", kindName(n))
		return nil
	}
	enable, disable := seqNode(n.Line), seqNode(n.Line)
	for _, kv := range pairs(n) {
		var on bool
		if err := deref(kv.v).Decode(&on); err != nil {
			d.warnf(kv.v, p.key(kv.k.Value), "expected true or false, got %s; ignored", kindName(deref(kv.v)))
			continue
		}
		if on {
			enable.Content = append(enable.Content, kv.k)
		} else {
			disable.Content = append(disable.Content, kv.k)
		}
	}
	return mapNode(n.Line, scalarNode("enable", n.Line), enable, scalarNode("disable", n.Line), disable)
}

// defaultUserPassword reads rancher.password and k3os.password: the
// password of the default user, a crypt(3) hash if it starts with "$".
func defaultUserPassword(d *decoder, n *yaml.Node, p path) *yaml.Node {
	if n.Kind != yaml.ScalarNode {
		return n
	}
	field := "plain_text_passwd"
	if strings.HasPrefix(n.Value, "$") {
		field = "hashed_passwd"
	}
	user := mapNode(n.Line, scalarNode("name", n.Line), scalarNode(DefaultUser, n.Line), scalarNode(field, n.Line), n)
	return seqNode(n.Line, user)
}

// DefaultUser is the user "default" in users stands for.
const DefaultUser = "ros"

// aliasKey turns a dotted key in RancherOS or k3OS spelling
// (rancher.network.dns.nameservers, k3os.ntp_servers) into its ros key,
// for Get and Set. Keys whose value the alias reshapes (rancher.ssh.keys,
// rancher.password …) and keys outside the tables have no ros key; other
// keys are returned as they are.
func aliasKey(key string) (string, error) {
	section, rest, ok := strings.Cut(key, ".")
	var table []alias
	switch {
	case !ok:
		return key, nil
	case section == "rancher":
		table = rancherAliases
	case section == "k3os":
		table = k3osAliases
	default:
		return key, nil
	}
	for _, a := range table {
		if rest != a.from && !strings.HasPrefix(rest, a.from+".") {
			continue
		}
		if a.conv != nil {
			return "", fmt.Errorf("%s: %w: its value is reshaped when read; use %s", key, ErrUnknownKey, a.to)
		}
		return a.to + strings.TrimPrefix(rest, a.from), nil
	}
	return "", fmt.Errorf("%s: %w: it has no ros equivalent (see the alias table in pkg/cloudconfig/doc.go)", key, ErrUnknownKey)
}
