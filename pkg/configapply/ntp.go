package configapply

import (
	"context"
	"fmt"
	"strings"
)

// NTPConf is the OpenNTPD configuration written from the ntp key.
const NTPConf = "/etc/ntpd.conf"

// applyNTP writes ntp.servers and ntp.pools as OpenNTPD `servers` lines
// (each name may resolve to several addresses, all used) and asks for
// ntpd to be restarted when the file changed. Without servers the file
// is removed and ntpd goes back to the image's own.
func applyNTP(ctx context.Context, a *applier) {
	n := a.next.NTP
	if n.Enabled != nil && !*n.Enabled {
		a.warnf("ntp.enabled: false: disable the ntpd service with ros.services.disable: [ntpd]")
	}
	name := a.sys.path(NTPConf)
	if len(n.Servers)+len(n.Pools) == 0 {
		removed, err := removeFile(name)
		if err != nil {
			a.fail("ntp", err)
		}
		if removed {
			a.restart("ntpd")
		}
		return
	}
	var b strings.Builder
	b.WriteString("# Written by ros from cloud-config (ntp).\n")
	for _, s := range append(append([]string{}, n.Servers...), n.Pools...) {
		fmt.Fprintf(&b, "servers %s\n", s)
	}
	changed, err := writeFile(name, []byte(b.String()), 0o644)
	if err != nil {
		a.fail("ntp", err)
		return
	}
	if changed {
		a.restart("ntpd")
	}
}
