package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/api"
)

// newSystemDockerCmd returns system-docker: the docker commands people
// reach for, over the system services, through rosd's API.
func newSystemDockerCmd(env *apiEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system-docker",
		Short: "Docker-like commands for the system containers (ps, logs, exec, restart, inspect)",
		Long: `system-docker shows and drives the system containers (ros services) the
way docker does user containers. It is a client of rosd's API, like 'ros service'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	env.addSocketFlag(cmd)
	cmd.AddCommand(
		newDockerPsCmd(env),
		newDockerLogsCmd(env),
		newDockerExecCmd(env),
		newDockerInspectCmd(env),
	)
	for _, a := range []string{api.ActionStart, api.ActionStop, api.ActionRestart} {
		cmd.AddCommand(newDockerActionCmd(env, a))
	}
	return cmd
}

func newDockerPsCmd(env *apiEnv) *cobra.Command {
	var all, quiet bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List system containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := env.client()
			svcs, err := c.Services(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			var t *table
			if !quiet {
				t = newTable(w, "CONTAINER ID", "IMAGE", "COMMAND", "STATUS", "NAMES")
			}
			for _, s := range svcs {
				if !all && !active(s) {
					continue
				}
				if quiet {
					fmt.Fprintln(w, s.Name)
					continue
				}
				command := ""
				if d, err := c.Service(cmd.Context(), s.Name); err == nil {
					command = specArgs(d.Spec)
				}
				t.row(truncate(s.Name, 12), s.Image, strconv.Quote(truncate(command, 20)), dockerStatus(env, s), s.Name)
			}
			if t != nil {
				return t.flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default shows just running)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display names")
	return cmd
}

// dockerStatus says a service's state in docker ps's words.
func dockerStatus(env *apiEnv, s api.Service) string {
	ago := func(prefix, suffix string) string {
		if s.Since.IsZero() {
			return ""
		}
		return prefix + env.ago(s.Since) + suffix
	}
	switch s.State {
	case api.StateRunning:
		st := "Up" + ago(" ", "")
		if s.Health != "" {
			st += " (" + s.Health + ")"
		}
		return st
	case api.StateStarting:
		return "Starting"
	case api.StateWaiting:
		return fmt.Sprintf("Restarting (%d)", s.Restarts) + ago(" ", " ago")
	case api.StateExited:
		return "Exited" + ago(" ", " ago")
	case api.StateStopped:
		return "Stopped"
	case api.StateDisabled:
		return "Disabled"
	}
	return s.State
}

// specArgs returns the command of an OCI runtime spec.
func specArgs(spec json.RawMessage) string {
	var s struct {
		Process struct {
			Args []string `json:"args"`
		} `json:"process"`
	}
	if len(spec) == 0 || json.Unmarshal(spec, &s) != nil {
		return ""
	}
	return strings.Join(s.Process.Args, " ")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func newDockerLogsCmd(env *apiEnv) *cobra.Command {
	var follow bool
	var tail string
	cmd := &cobra.Command{
		Use:   "logs [-f] [--tail N] NAME",
		Short: "Fetch the logs of a system container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lines := 0
			if tail != "all" {
				n, err := strconv.Atoi(tail)
				if err != nil || n < 0 {
					return fmt.Errorf("--tail %q: want a number or all", tail)
				}
				lines = n
				if n == 0 {
					return nil // docker prints nothing for --tail 0 without -f
				}
			}
			return followLogs(cmd.Context(), env.client(), args[0], lines, follow, cmd)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow log output")
	cmd.Flags().StringVarP(&tail, "tail", "n", "all", "number of lines to show from the end of the logs")
	return cmd
}

func newDockerExecCmd(env *apiEnv) *cobra.Command {
	var stdin bool
	var envs []string
	cmd := &cobra.Command{
		Use:   "exec [-i] [-e KEY=VALUE] NAME COMMAND [ARG...]",
		Short: "Run a command in a running system container (non-interactive; its exit code is ours)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.ExecRequest{Args: args[1:], Env: envs}
			if stdin {
				b, err := readInput(cmd, "-")
				if err != nil {
					return err
				}
				req.Stdin = string(b)
			}
			code, err := env.client().Exec(cmd.Context(), args[0], req, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after NAME belong to COMMAND
	cmd.Flags().BoolVarP(&stdin, "interactive", "i", false, "send our stdin (read to its end first) to the command")
	cmd.Flags().StringArrayVarP(&envs, "env", "e", nil, "set an environment variable")
	cmd.Flags().BoolP("tty", "t", false, "not supported: exec is non-interactive")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if tty, _ := cmd.Flags().GetBool("tty"); tty {
			return errors.New("exec -t: no terminal support; run the command without -t")
		}
		return nil
	}
	return cmd
}

func newDockerInspectCmd(env *apiEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NAME...",
		Short: "Show system containers in detail (JSON)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := env.client()
			out := []*api.ServiceDetail{}
			var errs []error
			for _, name := range args {
				d, err := c.Service(cmd.Context(), name)
				if err != nil {
					if errors.Is(err, api.ErrNotFound) {
						errs = append(errs, fmt.Errorf("no such object: %s", name))
						continue
					}
					return err
				}
				out = append(out, d)
			}
			if err := printJSON(cmd.OutOrStdout(), out); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
}

func newDockerActionCmd(env *apiEnv, action string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " NAME...",
		Short: strings.ToUpper(action[:1]) + action[1:] + " system containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return actOn(cmd, env, action, args, func(name string) string { return name })
		},
	}
}
