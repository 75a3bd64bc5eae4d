package configapply

import (
	"fmt"
	"net"
	"slices"
	"sort"

	"github.com/vishvananda/netlink"
)

// fakeNet is an in-memory Netlink: links by name, with their addresses,
// and the routes.
type fakeNet struct {
	links  map[string]netlink.Link
	addrs  map[string][]string // link -> CIDRs
	routes []string            // "default via GW dev LINK"
	calls  []string
	next   int
}

func newFakeNet() *fakeNet {
	return &fakeNet{links: map[string]netlink.Link{}, addrs: map[string][]string{}, next: 1}
}

// addPhys adds an Ethernet link.
func (n *fakeNet) addPhys(name, mac string) {
	hw, _ := net.ParseMAC(mac)
	a := netlink.NewLinkAttrs()
	a.Name, a.HardwareAddr, a.MTU = name, hw, 1500
	n.add(&netlink.Device{LinkAttrs: a})
}

func (n *fakeNet) add(l netlink.Link) {
	l.Attrs().Index = n.next
	n.next++
	n.links[l.Attrs().Name] = l
}

func (n *fakeNet) byIndex(i int) string {
	for name, l := range n.links {
		if l.Attrs().Index == i {
			return name
		}
	}
	return "?"
}

func (n *fakeNet) LinkList() ([]netlink.Link, error) {
	var out []netlink.Link
	for _, name := range n.names() {
		out = append(out, n.links[name])
	}
	return out, nil
}

func (n *fakeNet) names() []string {
	var out []string
	for name := range n.links {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func (n *fakeNet) LinkByName(name string) (netlink.Link, error) {
	if l, ok := n.links[name]; ok {
		return l, nil
	}
	return nil, netlink.LinkNotFoundError{}
}

func (n *fakeNet) LinkAdd(l netlink.Link) error {
	if _, ok := n.links[l.Attrs().Name]; ok {
		return fmt.Errorf("file exists")
	}
	desc := l.Type() + " " + l.Attrs().Name
	switch v := l.(type) {
	case *netlink.Vlan:
		desc += fmt.Sprintf(" id %d link %s", v.VlanId, n.byIndex(v.ParentIndex))
	case *netlink.Bond:
		desc += " mode " + v.Mode.String() + fmt.Sprintf(" miimon %d", v.Miimon)
	}
	n.calls = append(n.calls, "add "+desc)
	n.add(l)
	return nil
}

func (n *fakeNet) LinkSetUp(l netlink.Link) error {
	l.Attrs().Flags |= net.FlagUp
	n.calls = append(n.calls, "up "+l.Attrs().Name)
	return nil
}

func (n *fakeNet) LinkSetDown(l netlink.Link) error {
	l.Attrs().Flags &^= net.FlagUp
	n.calls = append(n.calls, "down "+l.Attrs().Name)
	return nil
}

func (n *fakeNet) LinkSetMTU(l netlink.Link, mtu int) error {
	l.Attrs().MTU = mtu
	n.calls = append(n.calls, fmt.Sprintf("mtu %s %d", l.Attrs().Name, mtu))
	return nil
}

func (n *fakeNet) LinkSetMaster(l, master netlink.Link) error {
	l.Attrs().MasterIndex = master.Attrs().Index
	n.calls = append(n.calls, "master "+l.Attrs().Name+" "+master.Attrs().Name)
	return nil
}

func (n *fakeNet) AddrReplace(l netlink.Link, a *netlink.Addr) error {
	name := l.Attrs().Name
	if !slices.Contains(n.addrs[name], a.IPNet.String()) {
		n.addrs[name] = append(n.addrs[name], a.IPNet.String())
	}
	return nil
}

func (n *fakeNet) RouteReplace(r *netlink.Route) error {
	route := fmt.Sprintf("default via %s dev %s", r.Gw, n.byIndex(r.LinkIndex))
	if !slices.Contains(n.routes, route) {
		n.routes = append(n.routes, route)
	}
	return nil
}
