package rosinit

import (
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// NewPowerCommands returns `reboot`, `halt` and `poweroff`: each asks PID 1
// for an orderly shutdown by sending it the signal of that action.
func NewPowerCommands() []*cobra.Command {
	var cmds []*cobra.Command
	for _, a := range []Action{ActionReboot, ActionHalt, ActionPoweroff} {
		cmds = append(cmds, &cobra.Command{
			Use:   a.String(),
			Short: fmt.Sprintf("Shut the machine down in order, then %s", a),
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				return RequestShutdown(a)
			},
		})
	}
	return cmds
}

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
