package hostcmd

import (
	"log/slog"
	"path/filepath"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/ocistore"
	"github.com/ros-os/ros/pkg/osimage"
)

// outputTable is every output format `ros build` knows: LinuxKit's (tar,
// kernel+initrd, kernel+squashfs) and ros's boot formats (iso, raw, qcow2 …).
func outputTable(log *slog.Logger, bo *bundleOptions) (assemble.Outputs, func()) {
	outs := assemble.DefaultOutputs()
	if bo == nil {
		bo = &bundleOptions{}
	}
	opts := osimage.Options{Logger: log, PayloadOutputs: bundleOutputs(bo)}
	if dir, err := ocistore.CacheDir(); err == nil {
		opts.CacheDir = filepath.Join(dir, "payload")
	}
	cleanup := osimage.Formats(outs, opts)
	return outs, cleanup
}

func formatNames() []string {
	outs, cleanup := outputTable(nil, nil)
	defer cleanup()
	return outs.Names()
}
