package configapply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
)

// SysctlPath is the /proc/sys file of a sysctl name: dots are separators
// unless the name uses '/' (net/ipv4/conf/eth0.100/forwarding).
func SysctlPath(key string) string {
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	return path.Join("/proc/sys", key)
}

// applySysctl writes each ros.sysctl value to /proc/sys. A value removed
// at Live keeps what the kernel has until the next boot.
func applySysctl(ctx context.Context, a *applier) {
	for _, k := range slices.Sorted(maps.Keys(a.next.ROS.Sysctl)) {
		v := string(a.next.ROS.Sysctl[k])
		if a.stage == Live && a.prev.ROS.Sysctl[k] == a.next.ROS.Sysctl[k] {
			continue
		}
		if err := writeSysctl(a.sys.path(SysctlPath(k)), v); err != nil {
			a.fail("ros.sysctl."+k, err)
		}
	}
	if a.stage == Live {
		for k := range a.prev.ROS.Sysctl {
			if _, ok := a.next.ROS.Sysctl[k]; !ok {
				a.needsReboot("ros.sysctl")
			}
		}
	}
}

func writeSysctl(name, value string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no such kernel parameter (%s is missing)", name)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := f.WriteString(value); err != nil {
		f.Close()
		return fmt.Errorf("write %q to %s: %w", value, name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, name, err)
	}
	return nil
}

// applyModules loads each module of ros.modules with modprobe ("name
// param=value …"). A module removed at Live stays loaded until the next
// boot.
func applyModules(ctx context.Context, a *applier) {
	for i, m := range a.next.ROS.Modules {
		if a.stage == Live && slices.Contains(a.prev.ROS.Modules, m) {
			continue
		}
		f := strings.Fields(m)
		if err := a.sys.Run(ctx, "modprobe", f, a.commandEnv(), a.sys.Output); err != nil {
			a.fail(fmt.Sprintf("ros.modules[%d]", i), fmt.Errorf("modprobe %s: %w", m, err))
		}
	}
	if a.stage == Live {
		for _, m := range a.prev.ROS.Modules {
			if !slices.Contains(a.next.ROS.Modules, m) {
				a.needsReboot("ros.modules")
			}
		}
	}
}
