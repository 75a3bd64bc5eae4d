package configapply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/moby/sys/mountinfo"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// mountEntry is a mounts entry read as cloud-init reads it.
type mountEntry struct {
	device, dir, fstype string
	options             []string
	nofail, noauto      bool
}

// fstabOnly are options for fstab readers (systemd, mount -a), not for
// mount(8).
func fstabOnly(o string) bool {
	return o == "nofail" || o == "noauto" || o == "auto" || o == "_netdev" || o == "defaults" ||
		strings.HasPrefix(o, "x-systemd.") || strings.HasPrefix(o, "x-") || strings.HasPrefix(o, "comment=")
}

func readMount(m cloudconfig.Mount) mountEntry {
	e := mountEntry{device: m[0], dir: m[1], fstype: "auto"}
	if len(m) > 2 && m[2] != "" {
		e.fstype = m[2]
	}
	// A bare device name is one under /dev (cloud-init: "sdb1").
	if !strings.HasPrefix(e.device, "/") && !strings.Contains(e.device, "=") && !strings.Contains(e.device, ":") {
		e.device = "/dev/" + e.device
	}
	if len(m) > 3 {
		for _, o := range strings.Split(m[3], ",") {
			switch o {
			case "nofail":
				e.nofail = true
			case "noauto":
				e.noauto = true
			}
			if o != "" && !fstabOnly(o) {
				e.options = append(e.options, o)
			}
		}
	}
	return e
}

// applyMounts mounts each entry of mounts (making its mount point) unless
// something is mounted there already; swap entries are turned on with
// swapon. At Live only new entries are mounted; entries removed stay
// mounted until the next boot.
func applyMounts(ctx context.Context, a *applier) {
	mounted, err := a.mountPoints()
	if err != nil {
		a.fail("mounts", err)
		return
	}
	for i, m := range a.next.Mounts {
		if a.stage == Live && slices.ContainsFunc(a.prev.Mounts, func(p cloudconfig.Mount) bool { return slices.Equal(p, m) }) {
			continue
		}
		key := fmt.Sprintf("mounts[%d]", i)
		e := readMount(m)
		if strings.HasPrefix(m[0], "ephemeral") {
			a.warnf("%s: %s: cloud ephemeral disks are not supported, ignored", key, m[0])
			continue
		}
		if e.noauto {
			continue
		}
		if err := a.mountOne(ctx, e, mounted); err != nil {
			if e.nofail {
				a.warnf("%s: %v (nofail)", key, err)
				continue
			}
			a.fail(key, err)
		}
	}
	if a.stage == Live {
		for _, p := range a.prev.Mounts {
			if !slices.ContainsFunc(a.next.Mounts, func(m cloudconfig.Mount) bool { return slices.Equal(p, m) }) {
				a.needsReboot("mounts")
			}
		}
	}
}

func (a *applier) mountOne(ctx context.Context, e mountEntry, mounted map[string]bool) error {
	if e.fstype == "swap" || e.dir == "swap" {
		return a.sys.Run(ctx, "swapon", []string{e.device}, a.commandEnv(), a.sys.Output)
	}
	if e.dir == "none" {
		return nil
	}
	target := a.sys.path(e.dir)
	if mounted[target] {
		return nil
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("make mount point: %w", err)
	}
	var args []string
	if e.fstype != "auto" {
		args = append(args, "-t", e.fstype)
	}
	if len(e.options) > 0 {
		args = append(args, "-o", strings.Join(e.options, ","))
	}
	args = append(args, e.device, target)
	if err := a.sys.Run(ctx, "mount", args, a.commandEnv(), a.sys.Output); err != nil {
		return fmt.Errorf("mount %s on %s: %w", e.device, e.dir, err)
	}
	mounted[target] = true
	return nil
}

// mountPoints lists what is mounted, from Root/proc/self/mountinfo (none
// when it is missing, as in tests).
func (a *applier) mountPoints() (map[string]bool, error) {
	out := map[string]bool{}
	b, err := os.ReadFile(a.sys.path("/proc/self/mountinfo"))
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	infos, err := mountinfo.GetMountsFromReader(bytes.NewReader(b), nil)
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	for _, m := range infos {
		out[path.Clean(m.Mountpoint)] = true
	}
	return out, nil
}
