package initrd

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"
)

// RebootDelay is how long a failure stays on the console before the reboot.
const RebootDelay = 10 * time.Second

// Main is the program ros-initrd: it runs Phases on the machine and never
// returns. On success the last phase execs the real init; on any failure
// (a panic included) it prints the phase and error, waits RebootDelay and
// reboots, because PID 1 exiting would panic the kernel.
func Main() {
	s := &State{Sys: &Host{}, Console: os.Stdout}
	start := time.Now()
	s.Logf("stage 1 starting (kernel uptime %s)", uptime())
	err := runSafely(context.Background(), s)
	if err == nil {
		err = fmt.Errorf("switch root returned without error")
	}
	s.Logf("FAILED after %dms: %v", time.Since(start).Milliseconds(), err)
	s.Logf("rebooting in %s", RebootDelay)
	time.Sleep(RebootDelay)
	if err := s.Sys.Reboot(); err != nil {
		s.Logf("reboot: %v", err)
	}
	for {
		time.Sleep(time.Hour) // never exit: that would panic the kernel
	}
}

func runSafely(ctx context.Context, s *State) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	phases := Phases()
	// Report the time to reach switch_root just before it, measured by the kernel.
	for i, p := range phases {
		if p.Name == "switch-root" {
			run := p.Run
			phases[i].Run = func(ctx context.Context, s *State) error {
				s.Logf("root ready at kernel uptime %s", uptime())
				return run(ctx, s)
			}
		}
	}
	return Run(ctx, s, phases)
}

// uptime is the time since the kernel started (CLOCK_BOOTTIME, which needs
// no /proc: that is moved away before switch_root).
func uptime() string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.2fs", time.Duration(ts.Nano()).Seconds())
}
