package configapply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// The resolver files. /etc/resolv.conf links to ResolvConf, which the dhcp
// service rewrites with each lease. StaticResolvConf holds the configured
// resolver: when it is there, the dhcp service copies it over ResolvConf
// instead of writing the lease's servers (it sees /run/resolvconf).
const (
	ResolvConf       = "/run/resolvconf/resolv.conf"
	StaticResolvConf = "/run/resolvconf/resolv.conf.static"
)

// maxNameservers is how many nameserver lines libc reads (MAXNS).
const maxNameservers = 3

// resolvConf renders the configured resolver: ros.network.dns, then
// resolv_conf when manage_resolv_conf is true (as in cloud-init). It
// returns "" when neither gives anything.
func resolvConf(c *cloudconfig.Config) (string, []string) {
	var warn []string
	servers := slices.Clone(c.ROS.Network.DNS.Nameservers)
	search := slices.Clone(c.ROS.Network.DNS.Search)
	var domain string
	var options map[string]cloudconfig.Scalar
	rc := c.ResolvConf
	manage := c.ManageResolvConf != nil && *c.ManageResolvConf
	if manage {
		servers = append(servers, rc.Nameservers...)
		search = append(search, rc.SearchDomains...)
		domain, options = rc.Domain, rc.Options
	} else if len(rc.Nameservers)+len(rc.SearchDomains) > 0 || rc.Domain != "" || len(rc.Options) > 0 {
		warn = append(warn, "resolv_conf: ignored: manage_resolv_conf is not true (use ros.network.dns, or set manage_resolv_conf: true)")
	}
	servers = unique(servers)
	search = unique(search)
	if len(servers) == 0 && len(search) == 0 && domain == "" && len(options) == 0 {
		return "", warn
	}
	if len(servers) > maxNameservers {
		warn = append(warn, fmt.Sprintf("resolv_conf: %d nameservers given; resolvers use the first %d", len(servers), maxNameservers))
	}
	var b strings.Builder
	b.WriteString("# Written by ros from cloud-config (ros.network.dns, resolv_conf).\n")
	if domain != "" {
		fmt.Fprintf(&b, "domain %s\n", domain)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	var opts []string
	for _, k := range slices.Sorted(maps.Keys(options)) {
		switch v := string(options[k]); strings.ToLower(v) {
		case "true", "yes", "on", "":
			opts = append(opts, k)
		case "false", "no", "off":
		default:
			opts = append(opts, k+":"+v)
		}
	}
	if len(opts) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(opts, " "))
	}
	return b.String(), warn
}

func unique(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// applyResolv writes the configured resolver to ResolvConf (in place:
// containers bind it) and to StaticResolvConf, so that the dhcp service
// keeps it. Without one, StaticResolvConf is removed and the next lease
// writes ResolvConf.
func applyResolv(ctx context.Context, a *applier) {
	text, warn := resolvConf(a.next)
	for _, w := range warn {
		a.warnf("%s", w)
	}
	if text == "" {
		if _, err := removeFile(a.sys.path(StaticResolvConf)); err != nil {
			a.fail("ros.network.dns", err)
		}
		return
	}
	for _, f := range []string{StaticResolvConf, ResolvConf} {
		if _, err := writeFile(a.sys.path(f), []byte(text), 0o644); err != nil {
			a.fail("ros.network.dns", err)
		}
	}
}
