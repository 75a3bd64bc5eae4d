package supervisor

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// SetOOMScoreAdj writes score to /proc/PID/oom_score_adj.
func SetOOMScoreAdj(pid, score int) error {
	path := fmt.Sprintf("/proc/%d/oom_score_adj", pid)
	if err := os.WriteFile(path, []byte(strconv.Itoa(score)), 0); err != nil {
		return fmt.Errorf("set oom_score_adj %d: %w", score, err)
	}
	return nil
}

// CanLowerOOMScore reports whether this process holds CAP_SYS_RESOURCE,
// which lowering an oom_score_adj below what the process was given
// needs. Without it (an unprivileged container, a sandbox) a negative
// score can only be asked for, and runc refuses to start a container
// that asks.
func CanLowerOOMScore() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[0].Effective&(1<<unix.CAP_SYS_RESOURCE) != 0
}
