package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/api"
)

// newServiceCmd returns `ros service …`.
func newServiceCmd(env *apiEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "service",
		Aliases: []string{"services"},
		Short:   "Manage the system services (through rosd)",
	}
	env.addSocketFlag(cmd)
	cmd.AddCommand(
		newServiceListCmd(env),
		newServicePsCmd(env),
		newServiceLogsCmd(env),
		newServiceInspectCmd(env),
		newServiceAddCmd(env),
		newServiceRmCmd(env),
	)
	for _, a := range []struct{ action, done, short string }{
		{api.ActionStart, "started", "Start services"},
		{api.ActionStop, "stopped", "Stop services"},
		{api.ActionRestart, "restarted", "Restart services"},
		{api.ActionEnable, "enabled", "Enable services: they start at every boot"},
		{api.ActionDisable, "disabled", "Disable services: they no longer start at boot"},
	} {
		cmd.AddCommand(newServiceActionCmd(env, a.action, a.done, a.short))
	}
	return cmd
}

func newServiceListCmd(env *apiEnv) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the services of the image and the added ones",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svcs, err := env.client().Services(cmd.Context())
			if err != nil {
				return err
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), nonNil(svcs))
			}
			t := newTable(cmd.OutOrStdout(), "NAME", "STATE", "ENABLED", "ORIGIN", "IMAGE")
			for _, s := range svcs {
				t.row(s.Name, s.State, yesNo(s.Enabled), s.Origin, s.Image)
			}
			return t.flush()
		},
	}
	addOutputFlag(cmd, &format, formatTable, formatJSON)
	return cmd
}

// active says whether a service has, or is about to have, a process.
func active(s api.Service) bool {
	switch s.State {
	case api.StateRunning, api.StateStarting, api.StateWaiting:
		return true
	}
	return false
}

func newServicePsCmd(env *apiEnv) *cobra.Command {
	var format string
	var all bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "Show the running services: process, uptime, restarts, health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svcs, err := env.client().Services(cmd.Context())
			if err != nil {
				return err
			}
			var shown []api.Service
			for _, s := range svcs {
				if all || active(s) {
					shown = append(shown, s)
				}
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), nonNil(shown))
			}
			t := newTable(cmd.OutOrStdout(), "NAME", "STATE", "PID", "RESTARTS", "CHANGED", "HEALTH", "LAST ERROR")
			for _, s := range shown {
				pid := "-"
				if s.PID > 0 {
					pid = fmt.Sprint(s.PID)
				}
				t.row(s.Name, s.State, pid, s.Restarts, env.agoSuffix(s.Since), dash(s.Health), dash(s.LastError))
			}
			return t.flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "also show stopped, exited and disabled services")
	addOutputFlag(cmd, &format, formatTable, formatJSON)
	return cmd
}

func newServiceActionCmd(env *apiEnv, action, done, short string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " NAME...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return actOn(cmd, env, action, args, func(name string) string { return done + " " + name })
		},
	}
}

// actOn runs action on each named service and prints line(name) for each
// that succeeds. An unreachable rosd stops it at once; other failures are
// reported together at the end.
func actOn(cmd *cobra.Command, env *apiEnv, action string, names []string, line func(name string) string) error {
	c := env.client()
	var errs []error
	for _, name := range names {
		if err := c.ServiceAction(cmd.Context(), name, action); err != nil {
			if errors.Is(err, api.ErrUnreachable) {
				return err
			}
			errs = append(errs, fmt.Errorf("%s %s: %w", action, name, err))
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), line(name))
	}
	return errors.Join(errs...)
}

func newServiceLogsCmd(env *apiEnv) *cobra.Command {
	var follow bool
	var lines int
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a service's log",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return followLogs(cmd.Context(), env.client(), args[0], lines, follow, cmd)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until interrupted")
	cmd.Flags().IntVarP(&lines, "lines", "n", 0, "print only the last N lines (0: all)")
	return cmd
}

// followLogs prints a log; an interrupted follow is a normal end.
func followLogs(ctx context.Context, c *api.Client, name string, lines int, follow bool, cmd *cobra.Command) error {
	err := c.Logs(ctx, name, lines, follow, cmd.OutOrStdout())
	if follow && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func newServiceInspectCmd(env *apiEnv) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect NAME",
		Short: "Show a service in detail (-o json adds its OCI runtime spec)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := env.client().Service(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), d)
			}
			t := newTable(cmd.OutOrStdout(), "Name:", d.Name)
			pid := "-"
			if d.PID > 0 {
				pid = fmt.Sprint(d.PID)
			}
			for _, kv := range [][2]string{
				{"Image:", d.Image},
				{"Origin:", d.Origin},
				{"Enabled:", yesNo(d.Enabled)},
				{"State:", d.State},
				{"PID:", pid},
				{"Restarts:", fmt.Sprint(d.Restarts)},
				{"Since:", env.formatTime(d.Since)},
				{"Health:", dash(d.Health)},
				{"Health output:", dash(oneLine(d.HealthOutput))},
				{"Last error:", dash(d.LastError)},
				{"Log:", dash(d.LogPath)},
				{"Command:", dash(specArgs(d.Spec))},
			} {
				t.row(kv[0], kv[1])
			}
			return t.flush()
		},
	}
	addOutputFlag(cmd, &format, formatText, formatJSON)
	return cmd
}

func newServiceAddCmd(env *apiEnv) *cobra.Command {
	var archive, format string
	cmd := &cobra.Command{
		Use:   "add FILE",
		Short: "Add a service from a LinuxKit image entry (YAML; - for stdin); it survives reboots and upgrades",
		Long: `Add a service from a YAML file holding one LinuxKit image entry:

  name: web
  image: docker.io/library/nginx:1.27
  binds: ["/var/lib/web:/usr/share/nginx/html"]

The image must be in the machine's image store, pullable, or given with
--archive (an OCI or docker-save tar on this machine).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, err := readInput(cmd, args[0])
			if err != nil {
				return err
			}
			if archive != "" {
				// rosd reads the archive: give it a path that does not
				// depend on our working directory.
				if archive, err = filepath.Abs(archive); err != nil {
					return err
				}
			}
			s, err := env.client().AddService(cmd.Context(), api.AddServiceRequest{Definition: string(def), Archive: archive})
			if err != nil {
				return err
			}
			if format == formatJSON {
				return printJSON(cmd.OutOrStdout(), s)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "added %s (%s)\n", s.Name, s.State)
			return err
		},
	}
	cmd.Flags().StringVar(&archive, "archive", "", "OCI or docker-save archive holding the image")
	addOutputFlag(cmd, &format, formatText, formatJSON)
	return cmd
}

func newServiceRmCmd(env *apiEnv) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Stop and remove added services",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := env.client()
			var errs []error
			for _, name := range args {
				if err := c.RemoveService(cmd.Context(), name); err != nil {
					if errors.Is(err, api.ErrUnreachable) {
						return err
					}
					errs = append(errs, fmt.Errorf("rm %s: %w", name, err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", name)
			}
			return errors.Join(errs...)
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// nonNil makes an empty list print as [] in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
