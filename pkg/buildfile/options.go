package buildfile

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The string forms of image entry options, parsed as LinuxKit parses them.
// They are checked when a build file is read (so errors carry a line) and
// used again by package ocispec when the runtime spec is made.

// allCaps lists every capability the kernel knows, in kernel order.
var allCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// AllCapabilities returns every capability name ("CAP_CHOWN" …) in kernel order.
func AllCapabilities() []string { return slices.Clone(allCaps) }

// KnownCapability reports whether name is a capability, spelt as LinuxKit
// wants it: upper case with the CAP_ prefix.
func KnownCapability(name string) bool { return slices.Contains(allCaps, name) }

// ExpandCapabilities applies LinuxKit's rule for a capability list: a list
// of the single word "all" means every capability, "none" means none (either
// in any case); otherwise every entry must be a known capability.
func ExpandCapabilities(caps []string) ([]string, error) {
	if len(caps) == 1 {
		switch strings.ToLower(caps[0]) {
		case "none":
			return []string{}, nil
		case "all":
			return AllCapabilities(), nil
		}
	}
	for _, c := range caps {
		if !KnownCapability(c) {
			return nil, fmt.Errorf("unknown capability %q (expected a name like CAP_NET_ADMIN, or a list of just \"all\" or \"none\")", c)
		}
	}
	return caps, nil
}

// ParseBind reads a bind "src:dst[:opt,opt…]". Without options the mount is
// "rw,rbind,rshared"; with options, "rbind" is added to them.
func ParseBind(s string) (specs.Mount, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 {
		return specs.Mount{}, fmt.Errorf("bind %q: expected source:destination[:options], missing ':'", s)
	}
	if len(parts) > 3 {
		return specs.Mount{}, fmt.Errorf("bind %q: expected source:destination[:options], too many ':'", s)
	}
	opts := []string{"rw", "rbind", "rshared"}
	if len(parts) == 3 {
		opts = append(strings.Split(parts[2], ","), "rbind")
	}
	return specs.Mount{Destination: parts[1], Type: "bind", Source: parts[0], Options: opts}, nil
}

// ParseTmpfs reads a tmpfs "dst[:opt,opt…]".
func ParseTmpfs(s string) (specs.Mount, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 2 {
		return specs.Mount{}, fmt.Errorf("tmpfs %q: expected destination[:options], too many ':'", s)
	}
	var opts []string
	if len(parts) == 2 {
		opts = strings.Split(parts[1], ",")
	}
	return specs.Mount{Destination: parts[0], Type: "tmpfs", Source: "tmpfs", Options: opts}, nil
}

var rlimitNames = []string{
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
	"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
	"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
	"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
}

// ParseRlimit reads "name,soft,hard": the name with or without RLIMIT_, in
// any case; soft and hard are numbers or "unlimited".
func ParseRlimit(s string) (specs.POSIXRlimit, error) {
	rs := strings.SplitN(s, ",", 3)
	if len(rs) != 3 {
		return specs.POSIXRlimit{}, fmt.Errorf("rlimit %q: expected name,soft,hard", s)
	}
	name := strings.ToUpper(strings.TrimSpace(rs[0]))
	if !strings.HasPrefix(name, "RLIMIT_") {
		name = "RLIMIT_" + name
	}
	if !slices.Contains(rlimitNames, name) {
		return specs.POSIXRlimit{}, fmt.Errorf("rlimit %q: unknown limit %s", s, name)
	}
	var lim [2]uint64
	for i, v := range rs[1:] {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, "unlimited") {
			lim[i] = math.MaxUint64
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return specs.POSIXRlimit{}, fmt.Errorf("rlimit %q: expected a number or \"unlimited\", got %q", s, v)
		}
		lim[i] = n
	}
	return specs.POSIXRlimit{Type: name, Soft: lim[0], Hard: lim[1]}, nil
}

// ResolveMount fills in what LinuxKit infers for a mount entry: the type
// from the source (proc, sysfs, devpts, mqueue, cgroup) or tmpfs for /dev;
// the source from the type; the destination from the type's usual place.
func ResolveMount(m specs.Mount) (specs.Mount, error) {
	if m.Type == "" {
		switch m.Source {
		case "mqueue", "devpts", "proc", "sysfs", "cgroup":
			m.Type = m.Source
		}
	}
	if m.Type == "" && m.Destination == "/dev" {
		m.Type = "tmpfs"
	}
	if m.Type == "" {
		return m, fmt.Errorf("mount for destination %q is missing type", m.Destination)
	}
	if m.Source == "" {
		m.Source = m.Type
	}
	if m.Destination == "" {
		m.Destination = defaultMountpoint(m.Type)
	}
	if m.Destination == "" {
		return m, fmt.Errorf("mount of type %q is missing destination", m.Type)
	}
	return m, nil
}

func defaultMountpoint(tp string) string {
	switch tp {
	case "proc":
		return "/proc"
	case "devpts":
		return "/dev/pts"
	case "sysfs":
		return "/sys"
	case "cgroup":
		return "/sys/fs/cgroup"
	case "mqueue":
		return "/dev/mqueue"
	}
	return ""
}

// ParseMode reads an octal permission string such as "0600".
func ParseMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 07777 {
		return 0, fmt.Errorf("mode %q: expected an octal permission like \"0644\"", s)
	}
	return uint32(m), nil
}
