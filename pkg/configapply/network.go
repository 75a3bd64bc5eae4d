package configapply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// NoDHCPFile lists the links configured statically (dhcp: false or
// addresses without dhcp: true), one name per line: the dhcp service
// leaves them alone.
const NoDHCPFile = "/run/ros/network/nodhcp"

// bondModes maps the numeric bond modes to their names.
var bondModes = map[string]string{"0": "balance-rr", "1": "active-backup", "2": "balance-xor", "3": "broadcast",
	"4": "802.3ad", "5": "balance-tlb", "6": "balance-alb"}

// applyNetwork makes the bonds, bridges and VLANs of ros.network, then
// sets each configured link's MTU, addresses and default routes and brings
// it up. DHCP is the dhcp service's; static links are listed in
// NoDHCPFile for it. Addresses and links removed at Live stay until the
// next boot.
func applyNetwork(ctx context.Context, a *applier) {
	ifs := a.next.ROS.Network.Interfaces
	names := slices.Sorted(maps.Keys(ifs))
	// Bonds and bridges before VLANs, which may sit on them.
	for _, kind := range []string{"bond", "bridge", "vlan"} {
		for _, n := range names {
			if err := a.makeLink(n, ifs[n], kind); err != nil {
				a.fail("ros.network.interfaces."+n, err)
			}
		}
	}
	var static []string
	for _, n := range names {
		iface := ifs[n]
		key := "ros.network.interfaces." + n
		if iface.DHCP6 != nil && *iface.DHCP6 {
			a.warnf("%s.dhcp6: not supported yet; give addresses and gateway6", key)
		}
		links, err := a.matchLinks(n, iface)
		if err != nil {
			a.fail(key, err)
			continue
		}
		if len(links) == 0 {
			a.warnf("%s: no such link on this machine, skipped", key)
			continue
		}
		if len(links) > 1 && (iface.Gateway != "" || iface.Gateway6 != "" || len(iface.Addresses) > 0) {
			a.warnf("%s matches %d links; each gets the same addresses and routes", key, len(links))
		}
		isStatic := (iface.DHCP != nil && !*iface.DHCP) || (len(iface.Addresses) > 0 && (iface.DHCP == nil || !*iface.DHCP))
		for _, l := range links {
			if err := a.configureLink(l, iface); err != nil {
				a.fail(key, fmt.Errorf("%s: %w", l.Attrs().Name, err))
			}
			if isStatic {
				static = append(static, l.Attrs().Name)
			}
		}
	}
	name := a.sys.path(NoDHCPFile)
	var err error
	if len(static) == 0 {
		_, err = removeFile(name)
	} else {
		slices.Sort(static)
		_, err = writeFile(name, []byte(strings.Join(slices.Compact(static), "\n")+"\n"), 0o644)
	}
	if err != nil {
		a.fail("ros.network", err)
	}
	if a.stage == Live && networkShrank(a.prev.ROS.Network, a.next.ROS.Network) {
		a.needsReboot("ros.network")
	}
}

// networkShrank tells whether next drops a link entry, an address or a
// gateway prev had: those are not undone live.
func networkShrank(prev, next cloudconfig.Network) bool {
	for n, p := range prev.Interfaces {
		x, ok := next.Interfaces[n]
		if !ok || (p.Gateway != "" && p.Gateway != x.Gateway) || (p.Gateway6 != "" && p.Gateway6 != x.Gateway6) {
			return true
		}
		for _, addr := range p.Addresses {
			if !slices.Contains(x.Addresses, addr) {
				return true
			}
		}
	}
	return false
}

// makeLink creates the virtual link entry name describes if it is of
// kind and missing.
func (a *applier) makeLink(name string, iface cloudconfig.Interface, kind string) error {
	var want bool
	switch kind {
	case "bond":
		want = iface.Bond.Mode != "" || len(iface.Bond.Slaves) > 0
	case "bridge":
		want = len(iface.Bridge.Ports) > 0
	case "vlan":
		want = iface.VLAN.ID != 0
	}
	if !want {
		return nil
	}
	if iface.Match.MAC != "" || strings.ContainsAny(iface.Match.Name+name, "*?[") {
		return fmt.Errorf("a %s is created by name: give a plain interface name, not a match", kind)
	}
	if iface.Match.Name != "" {
		name = iface.Match.Name
	}
	link, err := a.sys.Net.LinkByName(name)
	if err != nil && !isLinkNotFound(err) {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if link == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		switch kind {
		case "bond":
			link, err = newBond(attrs, iface.Bond)
			if err != nil {
				return err
			}
		case "bridge":
			link = &netlink.Bridge{LinkAttrs: attrs}
		case "vlan":
			parent, err := a.sys.Net.LinkByName(iface.VLAN.Link)
			if err != nil {
				return fmt.Errorf("vlan.link %q: %w", iface.VLAN.Link, err)
			}
			attrs.ParentIndex = parent.Attrs().Index
			link = &netlink.Vlan{LinkAttrs: attrs, VlanId: iface.VLAN.ID}
		}
		if err := a.sys.Net.LinkAdd(link); err != nil {
			return fmt.Errorf("add %s %s: %w", kind, name, err)
		}
		if link, err = a.sys.Net.LinkByName(name); err != nil {
			return fmt.Errorf("find %s after adding it: %w", name, err)
		}
	} else if link.Type() != kind {
		return fmt.Errorf("%s exists and is a %s, not a %s", name, link.Type(), kind)
	}
	members := iface.Bond.Slaves
	if kind == "bridge" {
		members = iface.Bridge.Ports
	}
	if kind == "vlan" {
		members = nil
	}
	for _, m := range members {
		ml, err := a.sys.Net.LinkByName(m)
		if err != nil {
			return fmt.Errorf("%s member %s: %w", kind, m, err)
		}
		if ml.Attrs().MasterIndex == link.Attrs().Index {
			continue
		}
		if kind == "bond" { // a bond takes only links that are down
			if err := a.sys.Net.LinkSetDown(ml); err != nil {
				return fmt.Errorf("set %s down: %w", m, err)
			}
		}
		if err := a.sys.Net.LinkSetMaster(ml, link); err != nil {
			return fmt.Errorf("add %s to %s: %w", m, name, err)
		}
		if err := a.sys.Net.LinkSetUp(ml); err != nil {
			return fmt.Errorf("set %s up: %w", m, err)
		}
	}
	return nil
}

func newBond(attrs netlink.LinkAttrs, b cloudconfig.Bond) (*netlink.Bond, error) {
	bond := netlink.NewLinkBond(attrs)
	mode := b.Mode
	if m, ok := bondModes[mode]; ok {
		mode = m
	}
	if mode == "" {
		mode = "balance-rr"
	}
	bond.Mode = netlink.StringToBondMode(mode)
	if bond.Mode == netlink.BOND_MODE_UNKNOWN {
		return nil, fmt.Errorf("bond.mode %q: unknown", b.Mode)
	}
	for _, k := range slices.Sorted(maps.Keys(b.Options)) {
		n, err := strconv.Atoi(string(b.Options[k]))
		switch k {
		case "miimon", "updelay", "downdelay":
			if err != nil {
				return nil, fmt.Errorf("bond.options.%s: expected milliseconds, got %q", k, b.Options[k])
			}
		default:
			return nil, fmt.Errorf("bond.options.%s: not supported (miimon, updelay, downdelay are)", k)
		}
		switch k {
		case "miimon":
			bond.Miimon = n
		case "updelay":
			bond.UpDelay = n
		case "downdelay":
			bond.DownDelay = n
		}
	}
	return bond, nil
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

// matchLinks returns the links an entry configures: by MAC, by name glob,
// or the link of that name.
func (a *applier) matchLinks(name string, iface cloudconfig.Interface) ([]netlink.Link, error) {
	glob := name
	if iface.Match.Name != "" {
		glob = iface.Match.Name
	}
	if iface.Match.MAC == "" && !strings.ContainsAny(glob, "*?[") {
		l, err := a.sys.Net.LinkByName(glob)
		if isLinkNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("find %s: %w", glob, err)
		}
		return []netlink.Link{l}, nil
	}
	all, err := a.sys.Net.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var mac net.HardwareAddr
	if iface.Match.MAC != "" {
		if mac, err = net.ParseMAC(iface.Match.MAC); err != nil {
			return nil, fmt.Errorf("match.mac: %w", err)
		}
	}
	var out []netlink.Link
	for _, l := range all {
		at := l.Attrs()
		if mac != nil {
			if at.HardwareAddr.String() != mac.String() || (iface.Match.Name != "" && !globMatch(iface.Match.Name, at.Name)) {
				continue
			}
		} else if !globMatch(glob, at.Name) {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

func globMatch(glob, name string) bool {
	ok, _ := path.Match(glob, name)
	return ok
}

// configureLink sets the MTU, brings the link up, adds its addresses and
// replaces the default routes through its gateways.
func (a *applier) configureLink(l netlink.Link, iface cloudconfig.Interface) error {
	if iface.MTU != 0 && l.Attrs().MTU != iface.MTU {
		if err := a.sys.Net.LinkSetMTU(l, iface.MTU); err != nil {
			return fmt.Errorf("mtu %d: %w", iface.MTU, err)
		}
	}
	if err := a.sys.Net.LinkSetUp(l); err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	for _, s := range iface.Addresses {
		addr, err := netlink.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("address %s: %w", s, err)
		}
		if err := a.sys.Net.AddrReplace(l, addr); err != nil {
			return fmt.Errorf("add address %s: %w", s, err)
		}
	}
	for _, gw := range []string{iface.Gateway, iface.Gateway6} {
		if gw == "" {
			continue
		}
		ip := net.ParseIP(gw)
		if ip == nil {
			return fmt.Errorf("gateway %q is not an IP address", gw)
		}
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: ip}
		if err := a.sys.Net.RouteReplace(r); err != nil {
			return fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	return nil
}
