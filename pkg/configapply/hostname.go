package configapply

import (
	"context"
	"fmt"
	"strings"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// hostLine starts the /etc/hosts line for the machine's own name, as
// Debian and cloud-init write it.
const hostLine = "127.0.1.1"

// hostNames returns the host name to set and the FQDN (may be "") as
// cloud-init derives them: hostname, else the first label of fqdn; a
// hostname with dots is its own FQDN.
func hostNames(c *cloudconfig.Config) (host, fqdn string) {
	host, fqdn = c.Hostname, c.FQDN
	if host == "" && fqdn != "" {
		host, _, _ = strings.Cut(fqdn, ".")
	}
	if fqdn == "" && strings.Contains(host, ".") {
		fqdn = host
		host, _, _ = strings.Cut(host, ".")
	}
	return host, fqdn
}

// applyHostname sets the host name, /etc/hostname and the 127.0.1.1 line
// of /etc/hosts (unless manage_etc_hosts is false).
func applyHostname(ctx context.Context, a *applier) {
	host, fqdn := hostNames(a.next)
	if host == "" {
		if a.stage == Live {
			a.needsReboot("hostname") // the image's name comes back at boot
		}
		return
	}
	if err := a.sys.SetHostname(host); err != nil {
		a.fail("hostname", fmt.Errorf("sethostname %s: %w", host, err))
	}
	if _, err := writeFile(a.sys.path("/etc/hostname"), []byte(host+"\n"), 0o644); err != nil {
		a.fail("hostname", err)
	}
	if a.next.ManageEtcHosts == "false" {
		return
	}
	if err := setHostsLine(a.sys.path("/etc/hosts"), host, fqdn); err != nil {
		a.fail("hostname", err)
	}
}

// setHostsLine replaces the 127.0.1.1 line of hosts (or adds one).
func setHostsLine(hosts, host, fqdn string) error {
	old, err := readFile(hosts)
	if err != nil {
		return err
	}
	line := hostLine + "\t" + host
	if fqdn != "" && fqdn != host {
		line = hostLine + "\t" + fqdn + " " + host
	}
	var out []string
	placed := false
	for _, l := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == hostLine {
			if !placed {
				out = append(out, line)
				placed = true
			}
			continue
		}
		if l != "" || len(out) > 0 {
			out = append(out, l)
		}
	}
	if !placed {
		out = append(out, line)
	}
	_, err = writeFile(hosts, []byte(strings.Join(out, "\n")+"\n"), 0o644|keepMode)
	return err
}
