package configapply

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNetwork(t *testing.T) {
	tests := []struct {
		name       string
		yml        string
		wantCalls  []string
		wantAddrs  map[string][]string
		wantRoutes []string
		wantNoDHCP string // NoDHCPFile; "" = none
		wantErr    string // key of the one error expected
		warnings   int
	}{
		{
			name:       "static",
			yml:        "eth0: {dhcp: false, addresses: [10.0.0.2/24, '2001:db8::2/64'], gateway: 10.0.0.1, gateway6: '2001:db8::1', mtu: 9000}",
			wantCalls:  []string{"mtu eth0 9000", "up eth0"},
			wantAddrs:  map[string][]string{"eth0": {"10.0.0.2/24", "2001:db8::2/64"}},
			wantRoutes: []string{"default via 10.0.0.1 dev eth0", "default via 2001:db8::1 dev eth0"},
			wantNoDHCP: "eth0\n",
		},
		{
			name:      "dhcp stays the dhcp service's",
			yml:       "eth0: {dhcp: true, mtu: 1400}",
			wantCalls: []string{"mtu eth0 1400", "up eth0"},
		},
		{
			name:       "glob",
			yml:        "eth*: {mtu: 1400}",
			wantCalls:  []string{"mtu eth0 1400", "up eth0", "mtu eth1 1400", "up eth1", "mtu eth2 1400", "up eth2"},
			wantNoDHCP: "",
		},
		{
			name:       "by mac",
			yml:        "lan: {match: {mac: '52:54:00:00:00:02'}, addresses: [192.168.1.2/24]}",
			wantCalls:  []string{"up eth1"},
			wantAddrs:  map[string][]string{"eth1": {"192.168.1.2/24"}},
			wantNoDHCP: "eth1\n",
		},
		{
			name:       "vlan",
			yml:        "eth0.100: {vlan: {id: 100, link: eth0}, addresses: [10.100.0.2/24]}",
			wantCalls:  []string{"add vlan eth0.100 id 100 link eth0", "up eth0.100"},
			wantAddrs:  map[string][]string{"eth0.100": {"10.100.0.2/24"}},
			wantNoDHCP: "eth0.100\n",
		},
		{
			name: "bond and bridge",
			yml: "bond0: {bond: {mode: '1', slaves: [eth0, eth1], options: {miimon: 100}}, dhcp: true}, " +
				"br0: {bridge: {ports: [eth2]}, addresses: [10.1.0.1/16]}",
			wantCalls: []string{"add bond bond0 mode active-backup miimon 100", "down eth0", "master eth0 bond0", "up eth0",
				"down eth1", "master eth1 bond0", "up eth1", "add bridge br0", "master eth2 br0", "up eth2", "up bond0", "up br0"},
			wantAddrs:  map[string][]string{"br0": {"10.1.0.1/16"}},
			wantNoDHCP: "br0\n",
		},
		{
			name:      "missing link is a warning",
			yml:       "eth9: {addresses: [10.9.0.2/24]}",
			wantCalls: nil,
			warnings:  1,
		},
		{
			name:    "vlan of a missing link",
			yml:     "eth9.5: {vlan: {id: 5, link: eth9}}",
			wantErr: "ros.network.interfaces.eth9.5",
			// and the entry itself is then not found
			warnings: 1,
		},
		{
			name:     "unknown bond option",
			yml:      "bond0: {bond: {slaves: [eth0], options: {lacp_rate: fast}}}",
			wantErr:  "ros.network.interfaces.bond0",
			warnings: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sys := newFake(t)
			f.net.addPhys("eth0", "52:54:00:00:00:01")
			f.net.addPhys("eth1", "52:54:00:00:00:02")
			f.net.addPhys("eth2", "52:54:00:00:00:03")
			f.net.addPhys("lo", "")
			r := Apply(context.Background(), sys, nil, parse(t, "ros: {network: {interfaces: {"+tt.yml+"}}}"), Boot)
			if tt.wantErr != "" {
				if len(r.Errors) != 1 || !hasError(r, tt.wantErr, "") {
					t.Errorf("Errors = %v, want one for %s", r.Errors, tt.wantErr)
				}
			} else {
				noErrors(t, r)
			}
			if tt.wantErr == "" && !cmp.Equal(f.net.calls, tt.wantCalls, cmpopts.EquateEmpty()) {
				t.Errorf("netlink calls =\n%q\nwant\n%q", f.net.calls, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantAddrs, f.net.addrs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("addresses mismatch (-want +got):\n%s", diff)
			}
			if !cmp.Equal(f.net.routes, tt.wantRoutes, cmpopts.EquateEmpty()) {
				t.Errorf("routes = %q, want %q", f.net.routes, tt.wantRoutes)
			}
			got := ""
			if existsT(f.root, NoDHCPFile) {
				got = readT(t, f.root, NoDHCPFile)
			}
			if got != tt.wantNoDHCP {
				t.Errorf("%s = %q, want %q", NoDHCPFile, got, tt.wantNoDHCP)
			}
			if len(r.Warnings) != tt.warnings {
				t.Errorf("Warnings = %q, want %d", r.Warnings, tt.warnings)
			}
			// Again (a restarted rosd, a live apply): nothing new is made.
			f.net.calls = nil
			Apply(context.Background(), sys, nil, parse(t, "ros: {network: {interfaces: {"+tt.yml+"}}}"), Boot)
			for _, c := range f.net.calls {
				if len(c) > 4 && c[:4] == "add " {
					t.Errorf("second Apply: %q", c)
				}
			}
		})
	}
}

func TestNetworkShrinkNeedsReboot(t *testing.T) {
	f, sys := newFake(t)
	f.net.addPhys("eth0", "52:54:00:00:00:01")
	prev := parse(t, "ros: {network: {interfaces: {eth0: {addresses: [10.0.0.2/24, 10.0.0.3/24]}}}}")
	next := parse(t, "ros: {network: {interfaces: {eth0: {addresses: [10.0.0.2/24]}}}}")
	r := Apply(context.Background(), sys, prev, next, Live)
	noErrors(t, r)
	if !cmp.Equal(r.NeedsReboot, []string{"ros.network"}) {
		t.Errorf("address removed live: NeedsReboot = %q, want [ros.network]", r.NeedsReboot)
	}
	r = Apply(context.Background(), sys, next, prev, Live)
	if len(r.NeedsReboot) != 0 || !cmp.Equal(r.Applied, []string{"ros.network"}) {
		t.Errorf("address added live: NeedsReboot = %q, Applied = %q", r.NeedsReboot, r.Applied)
	}
}
