package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestRun(t *testing.T) {
	ext := func(root *cobra.Command) {
		root.AddCommand(&cobra.Command{Use: "hello", RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Print("hi")
			return nil
		}})
	}
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"ros", "version"}, 0, Version + "\n", ""},
		{[]string{"ros", "hello"}, 0, "hi", ""},
		{[]string{"/usr/bin/ros", "nope"}, 1, "", `ros: unknown command "nope" for "ros"`},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, &out, &errb, ext)
		if code != tt.code || out.String() != tt.out || !strings.Contains(errb.String(), tt.err) {
			t.Errorf("run(%q) = %d, %q, %q; want %d, %q, %q", tt.args, code, out.String(), errb.String(), tt.code, tt.out, tt.err)
		}
	}
}
