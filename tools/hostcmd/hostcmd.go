// Package hostcmd holds the commands of the host build of ros: building OS
// images, managing component images and the local image store, and booting
// images in QEMU. The device build of ros does not include it.
package hostcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/ocistore"
)

// Register adds the host commands to the ros root command.
func Register(root *cobra.Command) {
	root.AddCommand(newBuildCmd(), newImageCmd(), newCacheCmd(), newRunCmd())
}

// openStore opens the local OCI store: $ROS_CACHE/oci, by default
// ~/.cache/ros/oci.
func openStore() (*ocistore.Store, error) {
	dir, err := ocistore.DefaultDir()
	if err != nil {
		return nil, err
	}
	return ocistore.Open(dir)
}

// logger returns the progress logger of host commands: stderr, debug
// lines with --verbose.
func logger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// outputFlag adds -o/--output to a read command.
func outputFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVarP(v, "output", "o", "table", "output format: table or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// writeJSON writes v indented, for -o json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func checkOutput(format string) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("--output %q: expected table or json", format)
	}
	return nil
}
