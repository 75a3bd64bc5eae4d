package slot

import (
	"strings"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// Booted returns the slot named by ros.slot= on a kernel command line
// (the contents of /proc/cmdline), or "" (live media, or not ros).
func Booted(cmdline string) string {
	for _, f := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(f, "ros.slot="); ok && (v == "A" || v == "B") {
			return v
		}
	}
	return ""
}

// Info describes both slots as grubenv records them, marking the booted
// one (see grub.ReadSlots).
func Info(env *grubenv.Env, booted string) []grub.SlotInfo {
	return grub.ReadSlots(env, booted)
}
