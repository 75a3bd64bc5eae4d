// Command floorinit is the whole initramfs of the boot floor benchmark: it
// prints one line with the kernel uptime and powers the machine off.
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	fmt.Fprintf(os.Stdout, "ros-bench: floor init at kernel uptime %.2fs\n", time.Duration(ts.Nano()).Seconds())
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
