package configapply

import (
	"context"
	"net"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// netnsHandle returns a netlink handle on a new, empty network namespace.
func netnsHandle(t *testing.T) *netlink.Handle {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Skipf("no network namespaces here: %v", err)
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		t.Skipf("cannot make a network namespace: %v", err)
	}
	if err := netns.Set(orig); err != nil {
		t.Fatalf("back to the test's namespace: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle in the new namespace: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// TestNetworkNetlink applies ros.network with real netlink in a network
// namespace of its own: veth links stand for Ethernet ones.
func TestNetworkNetlink(t *testing.T) {
	h := netnsHandle(t)
	for _, pair := range [][2]string{{"v0", "p0"}, {"v2", "p2"}} {
		a := netlink.NewLinkAttrs()
		a.Name = pair[0]
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: a, PeerName: pair[1]}); err != nil {
			t.Skipf("cannot make veth links: %v", err)
		}
	}
	yml := `ros:
  network:
    interfaces:
      v0: {dhcp: false, addresses: [10.9.0.2/24, "2001:db8::2/64"], gateway: 10.9.0.1, gateway6: "2001:db8::1", mtu: 1400}
      br0: {bridge: {ports: [v2]}, addresses: [10.8.0.1/16]}
`
	// VLANs need the 8021q module; test them where the kernel has it.
	probe := netlink.NewLinkAttrs()
	probe.Name = "probe.1"
	v0, err := h.LinkByName("v0")
	if err != nil {
		t.Fatal(err)
	}
	probe.ParentIndex = v0.Attrs().Index
	withVLAN := h.LinkAdd(&netlink.Vlan{LinkAttrs: probe, VlanId: 1}) == nil
	if withVLAN {
		if l, err := h.LinkByName("probe.1"); err == nil {
			_ = h.LinkDel(l)
		}
		yml += "      v0.7: {vlan: {id: 7, link: v0}, addresses: [10.7.0.2/24]}\n"
	} else {
		t.Log("no VLAN support in this kernel: VLANs not tested")
	}
	f, sys := newFake(t)
	sys.Net = h
	c := parse(t, yml)
	for range 2 { // the second run finds everything made
		noErrors(t, Apply(context.Background(), sys, nil, c, Boot))
	}

	v0, err = h.LinkByName("v0")
	if err != nil {
		t.Fatal(err)
	}
	if v0.Attrs().MTU != 1400 || v0.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("v0: mtu %d flags %v, want 1400 and up", v0.Attrs().MTU, v0.Attrs().Flags)
	}
	checkAddrs(t, h, v0, "10.9.0.2/24", "2001:db8::2/64")
	routes, err := h.RouteList(v0, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var gws []string
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			gws = append(gws, r.Gw.String())
		}
	}
	slices.Sort(gws)
	if !slices.Equal(gws, []string{"10.9.0.1", "2001:db8::1"}) {
		t.Errorf("default routes via %q, want 10.9.0.1 and 2001:db8::1", gws)
	}
	br, err := h.LinkByName("br0")
	if err != nil || br.Type() != "bridge" {
		t.Fatalf("br0 = %v, %v; want a bridge", br, err)
	}
	checkAddrs(t, h, br, "10.8.0.1/16")
	v2, err := h.LinkByName("v2")
	if err != nil || v2.Attrs().MasterIndex != br.Attrs().Index {
		t.Errorf("v2 master = %v (%v), want br0 (%d)", v2.Attrs().MasterIndex, err, br.Attrs().Index)
	}
	if withVLAN {
		vl, err := h.LinkByName("v0.7")
		if err != nil || vl.Type() != "vlan" || vl.(*netlink.Vlan).VlanId != 7 {
			t.Fatalf("v0.7 = %v, %v; want VLAN 7", vl, err)
		}
		checkAddrs(t, h, vl, "10.7.0.2/24")
	}
	want := "br0\nv0\n"
	if withVLAN {
		want = "br0\nv0\nv0.7\n"
	}
	if got := readT(t, f.root, NoDHCPFile); got != want {
		t.Errorf("%s = %q, want %q", NoDHCPFile, got, want)
	}
}

func checkAddrs(t *testing.T, h *netlink.Handle, l netlink.Link, want ...string) {
	t.Helper()
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range addrs {
		if !a.IP.IsLinkLocalUnicast() {
			got = append(got, a.IPNet.String())
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s addresses = %q, want %s among them", l.Attrs().Name, got, w)
		}
	}
}
