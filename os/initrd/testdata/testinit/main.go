// Command testinit is the /sbin/init of the QEMU test root: it reports what
// stage 1 built and powers the machine off. Standard library only.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

func main() {
	var st syscall.Statfs_t
	rootRO := syscall.Statfs("/", &st) == nil && st.Flags&1 != 0 // ST_RDONLY
	etcWritable := os.WriteFile("/etc/ros-test-write", []byte("x"), 0o644) == nil
	varMount := "none"
	mounts, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "/var" {
			varMount = f[2] + ":" + f[0]
		}
	}
	varMiB := int64(0)
	if syscall.Statfs("/var", &st) == nil {
		varMiB = int64(st.Blocks) * st.Bsize >> 20
	}
	uptime, _ := os.ReadFile("/proc/uptime")
	up := strings.Fields(string(uptime) + " ?")[0]
	fmt.Printf("ROS-TEST-ROOT root-ro=%v etc-writable=%v var=%s var-mib=%d uptime=%s\n", rootRO, etcWritable, varMount, varMiB, up)
	for _, line := range strings.Split(string(mounts), "\n") {
		if line != "" {
			fmt.Println("ROS-TEST-MOUNT " + line)
		}
	}
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
