package hostcmd

import (
	"log/slog"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/osimage"
)

// outputTable is every output format `ros build` knows: LinuxKit's (tar,
// kernel+initrd, kernel+squashfs) and ros's boot formats (iso, raw, qcow2 …).
func outputTable(log *slog.Logger) (assemble.Outputs, func()) {
	outs := assemble.DefaultOutputs()
	cleanup := osimage.Formats(outs, osimage.Options{Logger: log})
	return outs, cleanup
}

func formatNames() []string {
	outs, cleanup := outputTable(nil)
	defer cleanup()
	return outs.Names()
}
