package rosinit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// bootPhases is stage 2's boot, in order. Starting containerd and the
// daemon is not here: they are supervised for the life of PID 1.
func (i *Init) bootPhases() []Phase {
	return []Phase{
		{"mounts", i.mounts},
		{"cgroups", func(context.Context) error {
			return enableControllers(i.cfg.Sys, filepath.Join(i.cfg.Root, "sys/fs/cgroup"))
		}},
		{"ctrl-alt-del", func(context.Context) error {
			// The kernel then sends SIGINT to PID 1 instead of rebooting.
			return i.cfg.Sys.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)
		}},
		{"sysctl", i.sysctl},
		{"hostname", i.hostname},
		{"loopback", loopbackUp},
		{"entropy", i.entropy},
		{"modules", func(ctx context.Context) error {
			if i.cfg.Coldplug == nil {
				return nil
			}
			return i.cfg.Coldplug(ctx)
		}},
		{"power-button", i.watchPowerButton},
		{"dirs", i.dirs},
		{"home", i.home},
	}
}

func (i *Init) mounts(context.Context) error {
	return mountAll(i.cfg.Sys, i.cfg.Root, BootMounts)
}

func (i *Init) sysctl(context.Context) error {
	all := append([]Sysctl(nil), DefaultSysctls...)
	dir := filepath.Join(i.cfg.Root, "etc/sysctl.d")
	ents, err := readDirNames(i.cfg.Sys, dir)
	if err != nil {
		return err
	}
	for _, n := range sysctlFiles(ents) {
		p := filepath.Join(dir, n)
		raw, err := i.cfg.Sys.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		s, err := ParseSysctl(strings.NewReader(string(raw)), p)
		if err != nil {
			return err
		}
		all = append(all, s...)
	}
	var errs []error
	for _, s := range all {
		p := filepath.Join(i.cfg.Root, SysctlPath(s.Key))
		if err := i.cfg.Sys.WriteFile(p, []byte(s.Value)); err != nil && !s.IgnoreErr {
			errs = append(errs, fmt.Errorf("sysctl %s=%s: %w", s.Key, s.Value, err))
		}
	}
	return errors.Join(errs...)
}

// Hostname reads the hostname to set from /etc/hostname ("ros" when it is
// missing or empty).
func Hostname(sys System, root string) string {
	raw, err := sys.ReadFile(filepath.Join(root, "etc/hostname"))
	if err == nil {
		if f := strings.Fields(string(raw)); len(f) > 0 {
			return f[0]
		}
	}
	return "ros"
}

func (i *Init) hostname(context.Context) error {
	name := Hostname(i.cfg.Sys, i.cfg.Root)
	if err := i.cfg.Sys.Sethostname(name); err != nil {
		return fmt.Errorf("sethostname %s: %w", name, err)
	}
	i.say("hostname %s", name)
	return nil
}

func loopbackUp(context.Context) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// entropy only reports: since 5.18 the kernel's RNG is ready early without
// help, and 6.1 is what ros runs.
func (i *Init) entropy(context.Context) error {
	raw, err := i.cfg.Sys.ReadFile(filepath.Join(i.cfg.Root, "proc/sys/kernel/random/entropy_avail"))
	if err != nil {
		return err
	}
	i.say("entropy available: %s bits", strings.TrimSpace(string(raw)))
	return nil
}

// resolvConf is where /etc/resolv.conf points (a symlink in the init image)
// and the DHCP client writes. It must exist before any service that binds
// /etc/resolv.conf starts, so it starts empty, as in LinuxKit.
const resolvConf = "/run/resolvconf/resolv.conf"

func (i *Init) dirs(context.Context) error {
	var errs []error
	for _, d := range []string{i.cfg.LogDir, filepath.Dir(i.cfg.ContainerdLog), filepath.Dir(i.cfg.RosLog),
		"/var/lib/containerd", "/run/containerd", "/run/ros", filepath.Dir(resolvConf)} {
		if err := i.cfg.Sys.MkdirAll(filepath.Join(i.cfg.Root, d), 0o755); err != nil {
			errs = append(errs, err)
		}
	}
	rc := filepath.Join(i.cfg.Root, resolvConf)
	if _, err := i.cfg.Sys.ReadFile(rc); errors.Is(err, fs.ErrNotExist) {
		if err := i.cfg.Sys.WriteFile(rc, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Home directories live on ROS_STATE: the root is read-only, and keys,
// dotfiles and whatever users keep at home must survive reboots and
// upgrades. An overlay puts /var/lib/ros/home over the image's /home, so
// what the image has there (the default user's home, keys a build put in
// with files:) shows through until a user changes it.
const homeDir = "/var/lib/ros/home"

func (i *Init) home(context.Context) error {
	dst := filepath.Join(i.cfg.Root, "/home")
	upper, work := filepath.Join(i.cfg.Root, homeDir, "upper"), filepath.Join(i.cfg.Root, homeDir, "work")
	for _, d := range []string{upper, work} {
		if err := i.cfg.Sys.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("home: %w", err)
		}
	}
	if mounted, err := i.cfg.Sys.Mounted(dst); err == nil && mounted {
		return nil
	}
	data := "lowerdir=" + dst + ",upperdir=" + upper + ",workdir=" + work
	if err := i.cfg.Sys.Mount("overlay", dst, "overlay", 0, data); err != nil {
		return fmt.Errorf("overlay %s on /home: %w", homeDir, err)
	}
	return nil
}

func readDirNames(sys System, dir string) ([]string, error) {
	ents, err := sys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return ents, nil
}
