package hostcmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/os/cli"
	"github.com/ros-os/ros/pkg/disk/payload"
	"github.com/ros-os/ros/pkg/osbuild"
)

func newBuildCmd() *cobra.Command {
	var (
		opts    osbuild.Options
		bo      bundleOptions
		dryRun  bool
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "build [flags] FILE...",
		Short: "Build an OS from LinuxKit-format YAML files",
		Long: `Build reads one or more LinuxKit-format YAML files, merges them in order
(later kernel fields win, lists append), builds or fetches every image they
name and writes the requested output formats.

Images named ros/NAME (without a tag) are built from the recipe in
images/NAME/ and cached by content; other images come from the local store
(~/.cache/ros/oci; see 'ros cache import') or, when reachable, a registry.

Formats: ` + strings.Join(formatNames(), ", ") + `.`,
		Example: `  ros build yml/ros.yml
  ros build --format kernel+squashfs --dir out yml/ros.yml yml/docker.yml
  ros build --dry-run yml/ros.yml`,
		Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"yml", "yaml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if err := payload.CheckCompression(opts.Compression); err != nil {
				return fmt.Errorf("--compression: %w", err)
			}
			if dryRun {
				return osbuild.DryRun(cmd.OutOrStdout(), args)
			}
			store, err := openStore()
			if err != nil {
				return err
			}
			opts.Store = store
			opts.Logger = logger(cmd.ErrOrStderr(), verbose)
			outs, cleanup := outputTable(opts.Logger, &bo)
			defer cleanup()
			opts.Outputs = outs
			opts.Recipe.Logger = opts.Logger
			if verbose {
				opts.Recipe.Output = cmd.ErrOrStderr()
			}
			base, err := osbuild.Build(cmd.Context(), opts)
			if err != nil {
				return err
			}
			return printOutputs(cmd.OutOrStdout(), base, opts.Formats)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&opts.Formats, "format", "f", []string{"tar"}, "output formats, comma-separated")
	f.StringVar(&opts.Dir, "dir", ".", "folder to write the outputs to")
	f.StringVar(&opts.Name, "name", "", "output name (default: the first file's name without extension)")
	f.BoolVar(&dryRun, "dry-run", false, "validate and print the merged configuration; build nothing")
	f.StringVar(&opts.ImagesDir, "images", "", "folder of component image recipes (default: the nearest images/ above the first file)")
	f.BoolVar(&opts.Offline, "offline", false, "never pull images from a registry")
	f.StringVar(&opts.Compression, "compression", "zstd", "squashfs compressor of the root filesystem: zstd (boots fastest), xz (about 2% smaller, slower to boot) or gzip")
	f.StringVar(&opts.Version, "os-version", cli.Version, "OS version written into the image (usr/lib/ros/version); upgrades compare it")
	f.StringVar(&bo.SignKey, "sign-key", "", "minisign secret key (ros keygen) to sign the bundle formats with")
	f.StringVar(&bo.MinVersion, "min-version", "", "bundle formats: the oldest version this bundle upgrades from")
	f.BoolVarP(&verbose, "verbose", "v", false, "show debug progress and the output of package and Go builds")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(formatNames(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("compression", cobra.FixedCompletions(payload.Compressions, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func printOutputs(w io.Writer, base string, formats []string) error {
	_, err := fmt.Fprintf(w, "built %s (%s)\n", base, strings.Join(formats, ", "))
	return err
}
