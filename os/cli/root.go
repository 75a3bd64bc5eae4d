// Package cli builds the ros command tree. The same tree serves the machine
// (`ros service …`, `ros config …`) and, in the host build, the build-side
// commands registered through an Extension.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/os/rosd"
)

// Version is the ros version, set at link time with
// -ldflags "-X github.com/ros-os/ros/os/cli.Version=v1.2.3".
var Version = "dev"

// Extension adds commands to the root command.
type Extension func(root *cobra.Command)

// NewRoot returns the `ros` command with every built-in subcommand and the
// given extensions.
func NewRoot(exts ...Extension) *cobra.Command {
	return newRoot(defaultAPIEnv(), exts...)
}

func newRoot(env *apiEnv, exts ...Extension) *cobra.Command {
	root := &cobra.Command{
		Use:   "ros",
		Short: "ros: an immutable container operating system",
		Long: `ros builds bootable images from LinuxKit-format YAML and, on the machine,
manages the system services, its cloud-config and its upgrades.

Start with 'ros build yml/ros.yml' on a build host, or 'ros service list' on a
running machine.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	if env.stdin != nil {
		root.SetIn(env.stdin)
	}
	docker := newSystemDockerCmd(env)
	docker.Hidden = true // normally called as system-docker, a symlink to ros
	root.AddCommand(newVersionCmd(), rosd.NewCommand(Version))
	root.AddCommand(newServiceCmd(env), newConfigCmd(env), newEventsCmd(env), newEngineCmd(env), docker)
	root.AddCommand(newOSCmd(env), newInstallCmd(env), newKeygenCmd())
	root.AddCommand(newPowerCommands()...)
	for _, ext := range exts {
		ext(root)
	}
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the ros version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), Version)
			return err
		},
	}
}

// Main runs ros as named by args[0] and returns the process exit code.
func Main(args []string, exts ...Extension) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr, exts...)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, exts ...Extension) int {
	return runEnv(ctx, defaultAPIEnv(), args, stdout, stderr, exts...)
}

func runEnv(ctx context.Context, env *apiEnv, args []string, stdout, stderr io.Writer, exts ...Extension) int {
	if len(args) > 0 {
		name := filepath.Base(args[0])
		if multi, ok := multiCall[name]; ok {
			return exitCode(multi(ctx, env, args, stdout, stderr), name, stderr)
		}
	}
	root := newRoot(env, exts...)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if len(args) > 0 {
		root.SetArgs(linuxkitFlags(root, args[1:]))
	}
	return exitCode(root.ExecuteContext(ctx), "ros", stderr)
}

// exitCode prints err, unless its message is empty, and returns the exit
// status for it: its ExitCode() if it has one, else 1.
func exitCode(err error, name string, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
	}
	var exit interface{ ExitCode() int }
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	return 1
}

// multiCall maps the names ros answers to when called through a symlink:
// /usr/bin/system-docker is the docker-like client of the system services.
// (PID 1 is a program of its own: os/cmd/ros-init.)
var multiCall = map[string]func(ctx context.Context, env *apiEnv, args []string, stdout, stderr io.Writer) error{
	// Inside a socket-activated service: hand over the sockets, exec.
	rosd.ActivateName: func(_ context.Context, _ *apiEnv, args []string, _, _ io.Writer) error {
		return rosd.Activate(args)
	},
	"system-docker": func(ctx context.Context, env *apiEnv, args []string, stdout, stderr io.Writer) error {
		cmd := newSystemDockerCmd(env)
		cmd.SetArgs(args[1:])
		cmd.SetOut(stdout)
		cmd.SetErr(stderr)
		if env.stdin != nil {
			cmd.SetIn(env.stdin)
		}
		return cmd.ExecuteContext(ctx)
	},
}
