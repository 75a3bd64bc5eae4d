package cloudconfig

import "github.com/ros-os/ros/pkg/buildfile"

// ROS is the ros: section (rancher: and k3os: are read as aliases; see doc.go).
type ROS struct {
	Network     Network           `yaml:"network,omitempty" json:"network,omitempty"`
	Services    Services          `yaml:"services,omitempty" json:"services,omitempty"`
	Engine      Engine            `yaml:"engine,omitempty" json:"engine,omitempty"`
	Sysctl      map[string]Scalar `yaml:"sysctl,omitempty" json:"sysctl,omitempty"`
	Modules     []string          `yaml:"modules,omitempty" json:"modules,omitempty"`
	Environment map[string]Scalar `yaml:"environment,omitempty" json:"environment,omitempty"`
	Upgrade     Upgrade           `yaml:"upgrade,omitempty" json:"upgrade,omitempty"`
	SSH         SSH               `yaml:"ssh,omitempty" json:"ssh,omitempty"`
	Console     Console           `yaml:"console,omitempty" json:"console,omitempty"`
	CloudInit   CloudInit         `yaml:"cloud_init,omitempty" json:"cloud_init,omitempty"`
}

// Network is ros.network.
type Network struct {
	// Interfaces are keyed by interface name, or by any name when Match
	// says which link they configure. The RancherOS key forms "eth*" (a
	// glob) and "mac=aa:bb:…" are read into Match.
	Interfaces map[string]Interface `yaml:"interfaces,omitempty" json:"interfaces,omitempty"`
	DNS        DNS                  `yaml:"dns,omitempty" json:"dns,omitempty"`
	Proxy      Proxy                `yaml:"proxy,omitempty" json:"proxy,omitempty"`
}

// Interface configures one link (or several, with a glob match).
type Interface struct {
	Match     Match    `yaml:"match,omitempty" json:"match,omitempty"`
	DHCP      *bool    `yaml:"dhcp,omitempty" json:"dhcp,omitempty"`
	DHCP6     *bool    `yaml:"dhcp6,omitempty" json:"dhcp6,omitempty"`
	Addresses []string `yaml:"addresses,omitempty" json:"addresses,omitempty"` // CIDR, v4 or v6
	Gateway   string   `yaml:"gateway,omitempty" json:"gateway,omitempty"`
	Gateway6  string   `yaml:"gateway6,omitempty" json:"gateway6,omitempty"`
	MTU       int      `yaml:"mtu,omitempty" json:"mtu,omitempty"`
	VLAN      VLAN     `yaml:"vlan,omitempty" json:"vlan,omitempty"`
	Bond      Bond     `yaml:"bond,omitempty" json:"bond,omitempty"`
	Bridge    Bridge   `yaml:"bridge,omitempty" json:"bridge,omitempty"`
}

// Match selects links by name (a glob, as path.Match) and/or MAC address.
type Match struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	MAC  string `yaml:"mac,omitempty" json:"mac,omitempty"`
}

// VLAN makes the interface a VLAN of Link.
type VLAN struct {
	ID   int    `yaml:"id,omitempty" json:"id,omitempty"`
	Link string `yaml:"link,omitempty" json:"link,omitempty"`
}

// Bond makes the interface a bond of Slaves.
type Bond struct {
	Mode    string            `yaml:"mode,omitempty" json:"mode,omitempty"`
	Slaves  []string          `yaml:"slaves,omitempty" json:"slaves,omitempty"`
	Options map[string]Scalar `yaml:"options,omitempty" json:"options,omitempty"` // miimon, lacp_rate …
}

// Bridge makes the interface a bridge over Ports.
type Bridge struct {
	Ports []string `yaml:"ports,omitempty" json:"ports,omitempty"`
}

// DNS is ros.network.dns.
type DNS struct {
	Nameservers []string `yaml:"nameservers,omitempty" json:"nameservers,omitempty"`
	Search      []string `yaml:"search,omitempty" json:"search,omitempty"`
}

// Proxy is ros.network.proxy, given to services and the engine.
type Proxy struct {
	HTTP    string `yaml:"http,omitempty" json:"http,omitempty" secret:"url"`
	HTTPS   string `yaml:"https,omitempty" json:"https,omitempty" secret:"url"`
	NoProxy string `yaml:"no_proxy,omitempty" json:"no_proxy,omitempty"`
}

// Services is ros.services.
type Services struct {
	Enable  []string `yaml:"enable,omitempty" json:"enable,omitempty"`
	Disable []string `yaml:"disable,omitempty" json:"disable,omitempty"`
	// Definitions are extra services in the LinuxKit image-entry format,
	// checked as strictly as a build file's services section.
	Definitions Definitions `yaml:"definitions,omitempty" json:"definitions,omitempty" merge:"byname"`
}

// Definitions are service entries of a build file.
type Definitions []*buildfile.Image

// Engine is ros.engine: which container engine runs for the user and its
// options. `engine: docker` is short for `engine: {name: docker}`.
type Engine struct {
	Name   string         `yaml:"name,omitempty" json:"name,omitempty"`     // docker or none
	Args   []string       `yaml:"args,omitempty" json:"args,omitempty"`     // extra dockerd arguments
	Daemon map[string]any `yaml:"daemon,omitempty" json:"daemon,omitempty"` // daemon.json
}

// Upgrade is ros.upgrade.
type Upgrade struct {
	URL        string   `yaml:"url,omitempty" json:"url,omitempty" secret:"url"`
	Channel    string   `yaml:"channel,omitempty" json:"channel,omitempty"`
	PublicKeys []string `yaml:"public_keys,omitempty" json:"public_keys,omitempty"`
	// HealthTimeout bounds a trial boot: a new slot not healthy within
	// it (a Go duration, default 5m) is given up and the machine reboots
	// into the good slot.
	HealthTimeout string `yaml:"health_timeout,omitempty" json:"health_timeout,omitempty"`
}

// SSH is ros.ssh.
type SSH struct {
	Port     int       `yaml:"port,omitempty" json:"port,omitempty"`
	HostKeys []HostKey `yaml:"host_keys,omitempty" json:"host_keys,omitempty"`
}

// HostKey is an SSH host key pair (OpenSSH format).
type HostKey struct {
	Type    string `yaml:"type" json:"type"` // rsa, ecdsa or ed25519
	Private string `yaml:"private,omitempty" json:"private,omitempty" secret:"true"`
	Public  string `yaml:"public,omitempty" json:"public,omitempty"`
}

// Console is ros.console: the terminals a getty runs on.
type Console struct {
	TTYs []string `yaml:"ttys,omitempty" json:"ttys,omitempty"` // e.g. ttyS0, tty1, hvc0
}

// CloudInit is ros.cloud_init: which datasources are tried, in order.
type CloudInit struct {
	Datasources []string `yaml:"datasources,omitempty" json:"datasources,omitempty"`
}
