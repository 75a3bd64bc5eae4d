package hostcmd

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newCacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the local OCI image store (~/.cache/ros/oci)",
		Long: `The local store holds every image a build uses: component images built from
images/ recipes, images pulled from registries, and images imported from OCI
archives or 'docker save' tarballs. $ROS_CACHE moves it (default ~/.cache/ros).`,
	}
	cmd.AddCommand(newCacheLsCmd(), newCacheImportCmd(), newCacheExportCmd(), newCacheRmCmd())
	return cmd
}

func newCacheLsCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the images in the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			store, err := openStore()
			if err != nil {
				return err
			}
			entries, err := store.List()
			if err != nil {
				return err
			}
			if output == "json" {
				type row struct {
					Ref    string `json:"ref"`
					Digest string `json:"digest"`
					Size   int64  `json:"size"`
				}
				rows := make([]row, len(entries))
				for i, e := range entries {
					rows[i] = row{e.Ref, e.Digest.String(), e.Size}
				}
				return writeJSON(cmd.OutOrStdout(), rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REFERENCE\tDIGEST\tSIZE")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Ref, e.Digest, humanSize(e.Size))
			}
			return tw.Flush()
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

func newCacheImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE...",
		Short: "Import OCI image archives or 'docker save' tarballs into the store",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openStore()
			if err != nil {
				return err
			}
			for _, f := range args {
				refs, err := store.Import(cmd.Context(), f)
				if err != nil {
					return err
				}
				for _, r := range refs {
					fmt.Fprintf(cmd.OutOrStdout(), "imported %s\n", r)
				}
			}
			return nil
		},
	}
}

func newCacheExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "export -o FILE REF...",
		Short:   "Write images from the store to an OCI archive",
		Example: "  ros cache export -o getty.tar ros/getty:0123456789ab",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("export: -o FILE is required")
			}
			store, err := openStore()
			if err != nil {
				return err
			}
			if err := store.Export(cmd.Context(), args, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "archive to write")
	return cmd
}

func newCacheRmCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rm REF...",
		Short: "Remove images from the store",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openStore()
			if err != nil {
				return err
			}
			for _, r := range args {
				if err := store.Remove(r); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", r)
			}
			return nil
		},
	}
}
