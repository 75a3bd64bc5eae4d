// Command firstboot is the /sbin/init of the installed test root: it
// reports what the first boot of an installed disk sees (the state
// partition on /var, its size, the saved cloud-config) and powers off.
// Standard library only.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	varMount := "none"
	mounts, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "/var" {
			varMount = f[2] + ":" + f[0]
		}
	}
	var st syscall.Statfs_t
	varMiB := int64(0)
	if syscall.Statfs("/var", &st) == nil {
		varMiB = int64(st.Blocks) * st.Bsize >> 20
	}
	cc := "missing"
	mode := "none"
	const path = "/var/lib/ros/install/cloud-config.yml"
	if b, err := os.ReadFile(path); err == nil {
		cc = strconv.Quote(string(b))
	}
	if fi, err := os.Stat(path); err == nil {
		mode = fmt.Sprintf("%04o", fi.Mode().Perm())
	}
	fmt.Printf("\nROS-INSTALL-FIRSTBOOT var=%s var-mib=%d cloud-config-mode=%s cloud-config=%s\n", varMount, varMiB, mode, cc)
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
