package rosinit

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// Sysctl is one kernel parameter setting.
type Sysctl struct {
	Key, Value string
	IgnoreErr  bool // "-key = value": a missing key is not an error
}

// DefaultSysctls are set before /etc/sysctl.d, which may override them.
var DefaultSysctls = []Sysctl{
	{Key: "net.ipv4.ip_forward", Value: "1"},
	{Key: "net.ipv6.conf.all.forwarding", Value: "1", IgnoreErr: true},
	{Key: "fs.inotify.max_user_watches", Value: "524288"},
	{Key: "fs.inotify.max_user_instances", Value: "8192"},
	{Key: "kernel.keys.root_maxkeys", Value: "1000000"},
	{Key: "kernel.keys.root_maxbytes", Value: "25000000"},
	{Key: "vm.max_map_count", Value: "262144"},
	{Key: "kernel.panic_on_oops", Value: "1"},
}

// ParseSysctl reads sysctl.conf(5) syntax: "key = value" lines, '#' or ';'
// comments, a leading '-' to ignore a failure; keys may use '.' or '/'.
func ParseSysctl(r io.Reader, name string) ([]Sysctl, error) {
	var out []Sysctl
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want key = value, got %q", name, n, line)
		}
		s := Sysctl{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)}
		if strings.HasPrefix(s.Key, "-") {
			s.IgnoreErr, s.Key = true, strings.TrimSpace(s.Key[1:])
		}
		if s.Key == "" {
			return nil, fmt.Errorf("%s:%d: empty key", name, n)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// SysctlPath is the /proc/sys file of key ("net.ipv4.ip_forward" ->
// /proc/sys/net/ipv4/ip_forward). With '/' separators, '.' is kept (as in
// "net/ipv4/conf/eth0.100/forwarding").
func SysctlPath(key string) string {
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	return filepath.Join("/proc/sys", key)
}

// sysctlFiles lists the *.conf files of dir in lexical order.
func sysctlFiles(names []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ".conf") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
