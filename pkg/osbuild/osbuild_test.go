package osbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/buildfile"
)

// conformanceDir is the LinuxKit example corpus beside the repository.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "conformance", "linuxkit"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no conformance corpus at %s", dir)
	}
	return dir
}

// invalidUpstream lists corpus files LinuxKit itself rejects, with the
// error ros gives. static-ip.yml has a comment at column 0 inside a `|`
// block, which ends the block; LinuxKit's yaml.v2 fails on it as well
// ("yaml: line 27: did not find expected key").
var invalidUpstream = map[string]string{
	"static-ip.yml": "YAML syntax: did not find expected key",
}

// TestDryRunConformance runs `ros build --dry-run` on every LinuxKit example:
// each must validate, and what it prints must read back as the same config.
func TestDryRunConformance(t *testing.T) {
	dir := conformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files in %s (%v)", dir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var out bytes.Buffer
			err := DryRun(&out, []string{f})
			if want, bad := invalidUpstream[filepath.Base(f)]; bad {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("DryRun(%s) = %v, want an error containing %q", f, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("DryRun(%s) = %v", f, err)
			}
			again, err := buildfile.Parse("dry-run output", out.Bytes())
			if err != nil {
				t.Fatalf("dry-run output of %s does not parse: %v\n%s", f, err, out.String())
			}
			var out2 bytes.Buffer
			rendered, err := buildfile.Render(again)
			if err != nil {
				t.Fatal(err)
			}
			out2.Write(rendered)
			if out.String() != out2.String() {
				t.Errorf("dry-run output of %s is not stable:\n%s\n---\n%s", f, out.String(), out2.String())
			}
		})
	}
}

func TestDryRunMergesInOrder(t *testing.T) {
	var out bytes.Buffer
	if err := DryRun(&out, []string{"../../yml/ros.yml", "../../yml/docker.yml"}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	getty, docker := strings.Index(s, "name: getty"), strings.Index(s, "name: docker")
	if getty < 0 || docker < getty {
		t.Errorf("merged services out of order (getty at %d, docker at %d):\n%s", getty, docker, s)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.yml", "services:\n  - name: getty\n    image: ros/getty\n")
	b := write("b.yml", "services:\n  - name: getty\n    image: ros/getty\n")
	c := write("c.yml", "kernel:\n  image: ros/kernel\n  cmdlin: x\n")
	tests := []struct {
		files []string
		want  string
	}{
		{nil, "no build file given"},
		{[]string{filepath.Join(dir, "missing.yml")}, "missing.yml: no such file"},
		{[]string{a, b}, `duplicate service name "getty"`},
		{[]string{c}, `c.yml:3: kernel: unknown key "cmdlin"`},
	}
	for _, tt := range tests {
		_, err := Load(tt.files)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%q) = %v, want error containing %q", tt.files, err, tt.want)
		}
	}
}
