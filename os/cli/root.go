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

	rosinit "github.com/ros-os/ros/os/init"
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
	root.AddCommand(newVersionCmd(), rosd.NewCommand())
	root.AddCommand(rosinit.NewPowerCommands()...)
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
	if len(args) > 0 {
		if multi, ok := multiCall[filepath.Base(args[0])]; ok {
			if err := multi(ctx, args); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", filepath.Base(args[0]), err)
				return 1
			}
			return 0
		}
	}
	root := NewRoot(exts...)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if len(args) > 0 {
		root.SetArgs(linuxkitFlags(root, args[1:]))
	}
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "ros: %v\n", err)
		var exit interface{ ExitCode() int }
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		return 1
	}
	return 0
}

// multiCall maps the names ros answers to when called through a symlink:
// /sbin/init is ros as PID 1.
var multiCall = map[string]func(ctx context.Context, args []string) error{
	"init": rosinit.Main,
}
