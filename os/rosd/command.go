package rosd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/supervisor"
	"github.com/ros-os/ros/pkg/tasks"
)

// NewCommand returns `ros daemon`. SIGTERM or SIGINT stops the services and
// exits; SIGUSR1 exits leaving them running (a restarted daemon adopts them).
// version is what the API reports.
func NewCommand(version string) *cobra.Command {
	opts := Options{Version: version}
	var ociRuntime string
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run onboot containers and supervise system services (PID 1 starts this)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithCancelCause(cmd.Context())
			defer cancel(nil)
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
			defer signal.Stop(sigs)
			go func() {
				select {
				case s := <-sigs:
					if s == syscall.SIGUSR1 {
						cancel(supervisor.ErrDetach)
						return
					}
					cancel(nil)
				case <-ctx.Done():
				}
			}()
			if opts.Runtime = tasks.RuntimeBinary(ociRuntime); opts.Runtime == "" && ociRuntime != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "ros daemon: OCI runtime %s is not installed: services run under runc\n", ociRuntime)
			}
			return Run(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Root, "root", "/", "assembled tree holding containers/{onboot,services}")
	f.StringVar(&opts.LogDir, "log-dir", "/var/log/ros", "directory for container logs")
	f.StringVar(&opts.StateDir, "state-dir", "/run/ros", "per-boot state directory")
	f.StringVar(&opts.DataDir, "data-dir", "/var/lib/ros", "persistent state directory (database, added services)")
	f.StringVar(&opts.Socket, "socket", "/run/ros/ros.sock", "API socket (\"-\": none)")
	f.StringVar(&opts.Group, "group", "ros", "group allowed on the API socket besides root")
	f.StringVar(&opts.Address, "containerd", "/run/containerd/containerd.sock", "containerd socket")
	f.StringVar(&opts.Namespace, "namespace", "services.ros", "containerd namespace of services")
	f.StringVar(&opts.RuncBinary, "runc", "/usr/bin/runc", "runc binary for onboot containers")
	f.StringVar(&ociRuntime, "oci-runtime", tasks.DefaultRuntime, "OCI runtime binary for services, driven by containerd's runc shim (runc if it is not installed; \"\": runc)")
	f.DurationVar(&opts.Grace, "grace", 0, "grace period between SIGTERM and SIGKILL when stopping services (default 10s)")
	f.DurationVar(&opts.Settle, "settle", DefaultSettle, "how long every service must have been running at once before \"services ready\"")
	f.DurationVar(&opts.ReadyDeadline, "ready-deadline", DefaultReadyDeadline, "after this, name the services that are not ready on the console")
	return cmd
}
