package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	rosinit "github.com/ros-os/ros/os/init"
)

// newPowerCommands returns `reboot`, `halt` and `poweroff`: each asks PID 1
// for an orderly shutdown by sending it the signal of that action.
func newPowerCommands() []*cobra.Command {
	var cmds []*cobra.Command
	for _, a := range []rosinit.Action{rosinit.ActionReboot, rosinit.ActionHalt, rosinit.ActionPoweroff} {
		cmds = append(cmds, &cobra.Command{
			Use:   a.String(),
			Short: fmt.Sprintf("Shut the machine down in order, then %s", a),
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				return rosinit.RequestShutdown(a)
			},
		})
	}
	return cmds
}
