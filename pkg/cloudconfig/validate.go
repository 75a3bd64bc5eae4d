package cloudconfig

import (
	"errors"
	"fmt"
	"net/netip"
	pathpkg "path"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// validator collects every problem of a config, each an *Error naming the
// key and, when the config came from Parse, the line.
type validator struct {
	pos  positions
	errs []error
}

func (v *validator) fail(p string, format string, args ...any) {
	v.errs = append(v.errs, v.errorAt(p, fmt.Sprintf(format, args...)))
}

// errorAt names the line of p, or of the nearest enclosing key known.
func (v *validator) errorAt(p, msg string) *Error {
	for q := p; q != ""; q = parent(q) {
		if pos, ok := v.pos[q]; ok {
			return &Error{Source: pos.Source, Line: pos.Line, Path: p, Msg: msg}
		}
	}
	return &Error{Source: "config", Path: p, Msg: msg}
}

func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Validate checks the values decoding cannot: names, paths, modes,
// addresses, ranges and cross-references. It returns every problem found,
// joined (errors.Join); each is an *Error wrapping ErrInvalid.
func (c *Config) Validate() error {
	v := &validator{pos: c.pos}
	if c.Hostname != "" && !validHostname(c.Hostname) {
		v.fail("hostname", "%q is not a valid host name (RFC 1123: letters, digits and '-', labels of 1 to 63)", c.Hostname)
	}
	if c.FQDN != "" && !validHostname(c.FQDN) {
		v.fail("fqdn", "%q is not a valid host name (RFC 1123)", c.FQDN)
	}
	v.sshKeys("ssh_authorized_keys", c.SSHAuthorizedKeys)
	v.users(c.Users)
	v.writeFiles(c.WriteFiles)
	v.commands("bootcmd", c.Bootcmd)
	v.commands("runcmd", c.Runcmd)
	for i, m := range c.Mounts {
		p := fmt.Sprintf("mounts[%d]", i)
		switch {
		case len(m) < 2 || len(m) > 6:
			v.fail(p, "expected 2 to 6 fstab fields [device, dir, type, options, dump, pass], got %d", len(m))
		case m[0] == "":
			v.fail(p, "the device is empty")
		case m[1] != "none" && m[1] != "swap" && !pathpkg.IsAbs(m[1]):
			v.fail(p, "mount point %q is not an absolute path (or none, swap)", m[1])
		}
	}
	v.hosts("ntp.servers", c.NTP.Servers)
	v.hosts("ntp.pools", c.NTP.Pools)
	if c.Timezone != "" && (!timezoneRE.MatchString(c.Timezone) || strings.Contains(c.Timezone, "..")) {
		v.fail("timezone", "%q is not a time zone name such as UTC or Europe/Paris", c.Timezone)
	}
	v.ips("resolv_conf.nameservers", c.ResolvConf.Nameservers, "")
	v.domains("resolv_conf.searchdomains", c.ResolvConf.SearchDomains)
	if d := c.ResolvConf.Domain; d != "" && !validHostname(d) {
		v.fail("resolv_conf.domain", "%q is not a valid domain name", d)
	}
	switch c.ManageEtcHosts {
	case "", "true", "false", "template", "localhost":
	default:
		v.fail("manage_etc_hosts", "expected true, false, template or localhost, got %q", c.ManageEtcHosts)
	}
	v.ros(&c.ROS)
	return errors.Join(v.errs...)
}

var (
	userRE     = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	timezoneRE = regexp.MustCompile(`^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$`)
	ownerRE    = regexp.MustCompile(`^([a-z_][a-z0-9_-]{0,31}|[0-9]+)(:([a-z_][a-z0-9_-]{0,31}|[0-9]+))?$`)
)

func validHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (v *validator) sshKeys(p string, keys []string) {
	for i, k := range keys {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err != nil {
			v.fail(fmt.Sprintf("%s[%d]", p, i), "not an SSH public key in authorized_keys format: %v", err)
		}
	}
}

func (v *validator) users(users []User) {
	seen := map[string]int{}
	for i, u := range users {
		p := "users[" + strconv.Itoa(i) + "]"
		if j, dup := seen[u.Name]; dup {
			v.fail(p+".name", "user %q is also users[%d]", u.Name, j)
		}
		seen[u.Name] = i
		if u.Name != "default" && !userRE.MatchString(u.Name) {
			v.fail(p+".name", "%q is not a valid user name (lower-case letters, digits, '_' and '-', at most 32)", u.Name)
		}
		for j, g := range u.Groups {
			if !userRE.MatchString(g) {
				v.fail(fmt.Sprintf("%s.groups[%d]", p, j), "%q is not a valid group name", g)
			}
		}
		if u.Shell != "" && !pathpkg.IsAbs(u.Shell) {
			v.fail(p+".shell", "%q is not an absolute path", u.Shell)
		}
		if u.Homedir != "" && !pathpkg.IsAbs(u.Homedir) {
			v.fail(p+".homedir", "%q is not an absolute path", u.Homedir)
		}
		if u.UID != nil && *u.UID < 0 {
			v.fail(p+".uid", "must not be negative, got %d", *u.UID)
		}
		v.sshKeys(p+".ssh_authorized_keys", u.SSHAuthorizedKeys)
	}
}

func (v *validator) writeFiles(files []WriteFile) {
	for i, f := range files {
		p := "write_files[" + strconv.Itoa(i) + "]"
		switch {
		case f.Path == "":
			v.fail(p+".path", "missing: give the absolute path of the file")
		case !pathpkg.IsAbs(f.Path) || strings.ContainsRune(f.Path, 0):
			v.fail(p+".path", "%q is not an absolute path", f.Path)
		case strings.HasSuffix(f.Path, "/"):
			v.fail(p+".path", "%q names a directory, not a file", f.Path)
		}
		if _, ok := encodings[strings.ToLower(f.Encoding)]; !ok {
			v.fail(p+".encoding", "expected text, b64, base64, gzip, gz, gz+b64 or gzip+base64, got %q", f.Encoding)
		} else if _, err := f.Decode(); err != nil {
			v.fail(p+".content", "%v", err)
		}
		if _, err := f.Mode(); err != nil {
			v.fail(p+".permissions", "expected an octal mode from 0 to 07777, such as \"0644\", got %q", f.Permissions)
		}
		if f.Owner != "" && !ownerRE.MatchString(f.Owner) {
			v.fail(p+".owner", "expected user or user:group (names or numbers), got %q", f.Owner)
		}
	}
}

func (v *validator) commands(p string, cmds []Command) {
	for i, c := range cmds {
		if c.Shell == "" && len(c.Argv) == 0 || len(c.Argv) > 0 && c.Argv[0] == "" {
			v.fail(fmt.Sprintf("%s[%d]", p, i), "empty command")
		}
	}
}

// hosts checks names that may be host names or IP addresses.
func (v *validator) hosts(p string, hs []string) {
	for i, h := range hs {
		if _, err := netip.ParseAddr(h); err != nil && !validHostname(h) {
			v.fail(fmt.Sprintf("%s[%d]", p, i), "%q is neither an IP address nor a host name", h)
		}
	}
}

func (v *validator) domains(p string, ds []string) {
	for i, d := range ds {
		if !validHostname(d) {
			v.fail(fmt.Sprintf("%s[%d]", p, i), "%q is not a valid domain name", d)
		}
	}
}

// ips checks IP addresses; family is "4", "6" or "" for either.
func (v *validator) ips(p string, as []string, family string) {
	for i, a := range as {
		v.ip(fmt.Sprintf("%s[%d]", p, i), a, family)
	}
}

func (v *validator) ip(p, a, family string) {
	ip, err := netip.ParseAddr(a)
	switch {
	case err != nil:
		v.fail(p, "%q is not an IP address", a)
	case family == "4" && !ip.Is4():
		v.fail(p, "%q is not an IPv4 address", a)
	case family == "6" && (!ip.Is6() || ip.Is4In6()):
		v.fail(p, "%q is not an IPv6 address", a)
	}
}
