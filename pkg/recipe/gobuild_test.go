package recipe

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGoBuildFlags(t *testing.T) {
	for _, tc := range []struct {
		name     string
		g        GoProgram
		wantArgs []string
		wantCGO  string
	}{
		{
			name:     "plain",
			g:        GoProgram{Package: "./cmd/x"},
			wantArgs: []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", "BIN", "./cmd/x"},
			wantCGO:  "CGO_ENABLED=0",
		},
		{
			name:     "tags cgo ldflags",
			g:        GoProgram{Package: "./cmd/x", Tags: []string{"a", "b"}, CGO: true, Ldflags: "-X main.v=1"},
			wantArgs: []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -X main.v=1", "-o", "BIN", "-tags=a,b", "./cmd/x"},
			wantCGO:  "CGO_ENABLED=1",
		},
		{
			name:     "static",
			g:        GoProgram{Package: "./cmd/x", Tags: []string{"rosdevice", "netgo"}, Static: true},
			wantArgs: []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -linkmode=external -extldflags=-static", "-o", "BIN", "-tags=rosdevice,netgo,osusergo,rosstatic", "./cmd/x"},
			wantCGO:  "CGO_ENABLED=1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, env := goBuild(tc.g, "BIN")
			if d := cmp.Diff(tc.wantArgs, args); d != "" {
				t.Errorf("goBuild(%+v) args mismatch (-want +got):\n%s", tc.g, d)
			}
			if env[0] != tc.wantCGO {
				t.Errorf("goBuild(%+v) env = %v, want %s first", tc.g, env, tc.wantCGO)
			}
		})
	}
	// The caller's tags are not modified.
	g := GoProgram{Package: "./x", Tags: make([]string, 1, 8), Static: true}
	goBuild(g, "BIN")
	if g.Tags[:2][1] != "" {
		t.Errorf("goBuild appended to the recipe's Tags backing array: %q", g.Tags[:2])
	}
}

// TestCompileStatic builds a cgo program with static: true and checks the
// result the way the machine needs it: no interpreter, no shared
// libraries, runs alone, and the same bytes twice (content tags hash it).
func TestCompileStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("static cgo build: skipped under -short")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("needs gcc")
	}
	ctx := context.Background()
	prog := []GoProgram{{Package: "./pkg/recipe/testdata/hellocgo", Output: "/usr/bin/hellocgo", Static: true}}
	var bins []string
	for i := 0; i < 2; i++ {
		out := t.TempDir()
		b, err := compileGo(ctx, "../..", out, prog, nil)
		if err != nil {
			t.Fatalf("compileGo(static hellocgo) = %v", err)
		}
		bins = append(bins, b[0])
	}
	f, err := elf.Open(bins[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("static binary has a %v program header, want none", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Errorf("static binary needs %v, want no shared libraries", libs)
	}
	// Run it with nothing around it: a directory holding only the binary.
	root := t.TempDir()
	if err := os.Link(bins[0], filepath.Join(root, "hellocgo")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "./hellocgo")
	cmd.Dir = root
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello from cgo 42" {
		t.Errorf("hellocgo = %q, %v, want hello from cgo 42", out, err)
	}
	b0, _ := os.ReadFile(bins[0])
	b1, _ := os.ReadFile(bins[1])
	if !bytes.Equal(b0, b1) {
		t.Errorf("two static builds differ (%d and %d bytes), want the same bytes", len(b0), len(b1))
	}
}
