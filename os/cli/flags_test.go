package cli

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"
)

func TestLinuxkitFlags(t *testing.T) {
	root := &cobra.Command{Use: "ros"}
	build := &cobra.Command{Use: "build", Run: func(*cobra.Command, []string) {}}
	build.Flags().StringP("format", "f", "", "")
	build.Flags().Bool("dry-run", false, "")
	root.AddCommand(build)
	tests := []struct{ in, want []string }{
		{[]string{"build", "-format", "iso", "x.yml"}, []string{"build", "--format", "iso", "x.yml"}},
		{[]string{"build", "-format=iso", "-dry-run", "x.yml"}, []string{"build", "--format=iso", "--dry-run", "x.yml"}},
		{[]string{"build", "-f", "iso", "x.yml"}, []string{"build", "-f", "iso", "x.yml"}},
		{[]string{"build", "-nope", "x.yml"}, []string{"build", "-nope", "x.yml"}},
		{[]string{"build", "--", "-format"}, []string{"build", "--", "-format"}},
	}
	for _, tt := range tests {
		if got := linuxkitFlags(root, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("linuxkitFlags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
