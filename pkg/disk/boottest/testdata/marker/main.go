// Command marker is the /init of the test payloads' initramfs: it prints
// "ROS-TEST-BOOT slot=<ros.slot from /proc/cmdline> payload=<from /payload>
// args=<ros.* flags>" on /dev/console and powers the machine off.
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

func main() {
	os.MkdirAll("/dev", 0o755)
	os.MkdirAll("/proc", 0o755)
	syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	syscall.Mount("proc", "/proc", "proc", 0, "")
	out, err := os.OpenFile("/dev/console", os.O_WRONLY, 0)
	if err != nil {
		out = os.Stdout
	}
	payload := "unset"
	if b, err := os.ReadFile("/payload"); err == nil {
		payload = strings.TrimSpace(string(b)) // the initramfs names its payload
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	slot := "none"
	var flags []string
	for _, f := range strings.Fields(string(cmdline)) {
		if v, ok := strings.CutPrefix(f, "ros.slot="); ok {
			slot = v
		} else if strings.HasPrefix(f, "ros.") {
			flags = append(flags, f)
		}
	}
	fmt.Fprintf(out, "\nROS-TEST-BOOT slot=%s payload=%s args=%s\n", slot, payload, strings.Join(flags, ","))
	out.Close()
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
