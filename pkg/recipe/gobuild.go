package recipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ErrGoBuild is returned (wrapped) when a Go program of a recipe does not compile.
var ErrGoBuild = errors.New("go build failed")

// moduleRoot returns the nearest directory at or above dir holding go.mod.
func moduleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above %s: set Options.ModuleDir", dir)
		}
		d = parent
	}
}

func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	// sudo's secure_path drops /usr/local/go/bin: fall back on the Go that built ros.
	//lint:ignore SA1019 PATH is tried first; this is the fallback (standalone staticcheck)
	return filepath.Join(runtime.GOROOT(), "bin", "go") //nolint:staticcheck // SA1019: as above (golangci-lint)
}

// StaticTags are the build tags a `static: true` program is built with on
// top of its own.
var StaticTags = []string{"netgo", "osusergo", "rosstatic"}

// goBuild returns the arguments and environment of `go build` for g,
// writing bin. Flags make the output depend only on the source and the
// toolchain: -trimpath, -buildvcs=false, -ldflags "-s -w".
func goBuild(g GoProgram, bin string) (args, env []string) {
	ldflags := "-s -w"
	tags := append([]string(nil), g.Tags...)
	cgo := "0"
	if g.CGO {
		cgo = "1"
	}
	if g.Static {
		cgo = "1"
		ldflags += " -linkmode=external -extldflags=-static"
		for _, t := range StaticTags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	if g.Ldflags != "" {
		ldflags += " " + g.Ldflags
	}
	args = []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=" + ldflags, "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags="+strings.Join(tags, ","))
	}
	args = append(args, g.Package)
	env = []string{"CGO_ENABLED=" + cgo, "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-buildvcs=false"}
	return args, env
}

// compileGo builds each program into outDir and returns the binaries'
// paths, in recipe order.
func compileGo(ctx context.Context, moduleDir, outDir string, progs []GoProgram, log io.Writer) ([]string, error) {
	var out []string
	for i, g := range progs {
		bin := filepath.Join(outDir, fmt.Sprintf("go-%d-%s", i, filepath.Base(g.Output)))
		args, env := goBuild(g, bin)
		cmd := exec.CommandContext(ctx, goCommand(), args...)
		cmd.Dir = moduleDir
		cmd.Env = append(os.Environ(), env...)
		var tail strings.Builder
		cmd.Stdout = &tail
		cmd.Stderr = &tail
		if log != nil {
			cmd.Stdout = io.MultiWriter(log, &tail)
			cmd.Stderr = cmd.Stdout
		}
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s (%s): %w: %w\n%s", g.Package, strings.Join(args[1:len(args)-1], " "), ErrGoBuild, err, tail.String())
		}
		out = append(out, bin)
	}
	return out, nil
}
