package hostcmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ros-os/ros/pkg/osbuild"
	"github.com/ros-os/ros/pkg/recipe"
)

func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build and list the component images (images/NAME recipes)",
		Long: `Component images (kernel, init, containerd, getty, sshd …) are built from the
declarative recipes in images/NAME/image.yml into the local OCI store, tagged by
the recipe's content hash: an unchanged recipe is never rebuilt.`,
	}
	cmd.AddCommand(newImageBuildCmd(), newImageLsCmd())
	return cmd
}

// recipeDirs turns names or folders into recipe folders; none means every
// recipe in imagesDir.
func recipeDirs(imagesDir string, args []string) ([]string, error) {
	if imagesDir == "" {
		imagesDir = osbuild.FindImagesDir(".")
	}
	if len(args) == 0 {
		if imagesDir == "" {
			return nil, errors.New("no images/ folder here or above; pass --images DIR")
		}
		m, err := filepath.Glob(filepath.Join(imagesDir, "*", recipe.FileName))
		if err != nil {
			return nil, err
		}
		dirs := make([]string, len(m))
		for i, f := range m {
			dirs[i] = filepath.Dir(f)
		}
		sort.Strings(dirs)
		return dirs, nil
	}
	dirs := make([]string, 0, len(args))
	for _, a := range args {
		dir := a
		if _, err := os.Stat(filepath.Join(a, recipe.FileName)); err != nil {
			dir = filepath.Join(imagesDir, a)
			if _, err := os.Stat(filepath.Join(dir, recipe.FileName)); err != nil {
				return nil, fmt.Errorf("%s: no %s there nor in %s", a, recipe.FileName, dir)
			}
		}
		dirs = append(dirs, dir)
	}
	return dirs, nil
}

func newImageBuildCmd() *cobra.Command {
	var (
		imagesDir string
		opts      recipe.Options
		verbose   bool
	)
	cmd := &cobra.Command{
		Use:   "build [NAME|DIR]...",
		Short: "Build component images into the local store (all when none named)",
		Example: `  ros image build            # every recipe in images/
  ros image build kernel sshd
  ros image build --force images/getty`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dirs, err := recipeDirs(imagesDir, args)
			if err != nil {
				return err
			}
			store, err := openStore()
			if err != nil {
				return err
			}
			opts.Logger = logger(cmd.ErrOrStderr(), verbose)
			if verbose {
				opts.Output = cmd.ErrOrStderr()
			}
			for _, dir := range dirs {
				ref, digest, err := recipe.Build(cmd.Context(), dir, store, opts)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", ref, digest)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&imagesDir, "images", "", "folder of recipes (default: the nearest images/ here or above)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "rebuild even when the store has the recipe's content tag")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show the output of package and Go builds")
	return cmd
}

type imageRow struct {
	Name  string `json:"name"`
	Ref   string `json:"ref"`
	Built bool   `json:"built"`
	Size  int64  `json:"size,omitempty"`
}

func newImageLsCmd() *cobra.Command {
	var imagesDir, output string
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the component image recipes, their content tags and whether they are built",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			dirs, err := recipeDirs(imagesDir, nil)
			if err != nil {
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
			sizes := map[string]int64{}
			for _, e := range entries {
				sizes[e.Ref] = e.Size
			}
			var rows []imageRow
			for _, dir := range dirs {
				name, err := recipe.Name(dir)
				if err != nil {
					return err
				}
				tag, err := recipe.ContentTag(cmd.Context(), dir, recipe.Options{})
				if err != nil {
					return err
				}
				ref := recipe.Ref(name, tag)
				size, built := sizes[ref]
				rows = append(rows, imageRow{Name: name, Ref: ref, Built: built, Size: size})
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tREFERENCE\tBUILT\tSIZE")
			for _, r := range rows {
				size := "-"
				if r.Built {
					size = humanSize(r.Size)
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", r.Name, r.Ref, r.Built, size)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&imagesDir, "images", "", "folder of recipes (default: the nearest images/ here or above)")
	outputFlag(cmd, &output)
	return cmd
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
