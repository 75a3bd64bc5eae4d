package rosinit

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// RequestShutdown sends PID 1 the signal asking for a.
func RequestShutdown(a Action) error {
	sig := SignalFor(a)
	if sig == 0 {
		return fmt.Errorf("no signal for action %s", a)
	}
	if err := unix.Kill(1, sig); err != nil {
		return fmt.Errorf("signal PID 1 (%s): %w", a, err)
	}
	return nil
}
