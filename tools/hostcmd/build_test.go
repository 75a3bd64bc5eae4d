package hostcmd

import (
	"io"
	"strings"
	"testing"
)

// TestBuildRefusesCompression: a compressor ros cannot read is
// refused before anything is built, naming the flag and the choices.
func TestBuildRefusesCompression(t *testing.T) {
	for _, comp := range []string{"lz4", "lzo", ""} {
		cmd := newBuildCmd()
		cmd.SetArgs([]string{"--compression", comp, "--dry-run", "does-not-exist.yml"})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), "--compression") || !strings.Contains(err.Error(), "zstd, xz, gzip") {
			t.Errorf("ros build --compression %q: %v, want the flag and the choices named", comp, err)
		}
	}
}
