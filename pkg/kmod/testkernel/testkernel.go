// Package testkernel provides Debian's amd64 kernel for tests: the
// linux-image package is fetched with apt-get once, unpacked and indexed with
// depmod under $ROS_CACHE/testkernel (default ~/.cache/ros/testkernel), and
// reused afterwards.
package testkernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrUnavailable means there is no unpacked kernel and it cannot be fetched
// here (no apt-get, dpkg-deb or depmod).
var ErrUnavailable = errors.New("test kernel unavailable")

// Kernel is an unpacked kernel package.
type Kernel struct {
	Version    string // e.g. 6.1.0-56-amd64
	Vmlinuz    string // boot/vmlinuz-<version>
	ModulesDir string // lib/modules/<version>, with modules.dep
}

// CacheDir returns $ROS_CACHE/testkernel, or ~/.cache/ros/testkernel.
func CacheDir() string {
	base := os.Getenv("ROS_CACHE")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".cache", "ros")
	}
	return filepath.Join(base, "testkernel")
}

// Find returns an already unpacked kernel from the cache, if there is one.
func Find() (Kernel, bool) {
	deps, _ := filepath.Glob(filepath.Join(CacheDir(), "*", "lib", "modules", "*", "modules.dep"))
	for i := len(deps) - 1; i >= 0; i-- {
		modDir := filepath.Dir(deps[i])
		ver := filepath.Base(modDir)
		root := filepath.Dir(filepath.Dir(filepath.Dir(modDir)))
		vmlinuz := filepath.Join(root, "boot", "vmlinuz-"+ver)
		if _, err := os.Stat(vmlinuz); err == nil {
			return Kernel{Version: ver, Vmlinuz: vmlinuz, ModulesDir: modDir}, true
		}
	}
	return Kernel{}, false
}

// Fetch returns the cached kernel, downloading and unpacking it first when
// needed. Errors from missing tools wrap ErrUnavailable so tests can skip.
func Fetch(ctx context.Context) (Kernel, error) {
	if k, ok := Find(); ok {
		return k, nil
	}
	for _, tool := range []string{"apt-get", "apt-cache", "dpkg-deb", "depmod"} {
		if _, err := exec.LookPath(tool); err != nil {
			return Kernel{}, fmt.Errorf("fetch test kernel: %s: %w", tool, ErrUnavailable)
		}
	}
	dir := CacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Kernel{}, fmt.Errorf("fetch test kernel: %w", err)
	}
	deb, err := download(ctx, dir)
	if err != nil {
		return Kernel{}, err
	}
	if err := unpack(ctx, dir, deb); err != nil {
		return Kernel{}, err
	}
	if k, ok := Find(); ok {
		return k, nil
	}
	return Kernel{}, fmt.Errorf("fetch test kernel: unpacked %s but found no kernel: %w", deb, ErrUnavailable)
}

var debName = regexp.MustCompile(`^linux-image-[0-9.]+-[0-9]+-amd64_.*_amd64\.deb$`)

// download returns the linux-image .deb in dir, fetching the one
// linux-image-amd64 depends on when none is there.
func download(ctx context.Context, dir string) (string, error) {
	if debs, _ := os.ReadDir(dir); debs != nil {
		for i := len(debs) - 1; i >= 0; i-- {
			if debName.MatchString(debs[i].Name()) {
				return filepath.Join(dir, debs[i].Name()), nil
			}
		}
	}
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", "linux-image-amd64").Output()
	if err != nil {
		return "", fmt.Errorf("fetch test kernel: apt-cache depends linux-image-amd64: %v: %w", err, ErrUnavailable)
	}
	pkg := ""
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") {
			pkg = f[1]
			break
		}
	}
	if pkg == "" {
		return "", fmt.Errorf("fetch test kernel: no linux-image package in %q: %w", out, ErrUnavailable)
	}
	cmd := exec.CommandContext(ctx, "apt-get", "download", pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("fetch test kernel: apt-get download %s: %v: %s: %w", pkg, err, out, ErrUnavailable)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(matches) == 0 {
		return "", fmt.Errorf("fetch test kernel: apt-get download %s left no .deb: %w", pkg, ErrUnavailable)
	}
	return matches[len(matches)-1], nil
}

// unpack extracts deb beside itself into a directory named after it and runs
// depmod there. It works in a temporary directory and renames it at the end
// so that concurrent tests never see half a tree.
func unpack(ctx context.Context, dir, deb string) error {
	final := filepath.Join(dir, strings.TrimSuffix(filepath.Base(deb), ".deb"))
	tmp, err := os.MkdirTemp(dir, ".unpack-")
	if err != nil {
		return fmt.Errorf("unpack %s: %w", deb, err)
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg-deb -x %s: %v: %s", deb, err, out)
	}
	vers, err := os.ReadDir(filepath.Join(tmp, "lib", "modules"))
	if err != nil || len(vers) != 1 {
		return fmt.Errorf("unpack %s: want one lib/modules/<version>, got %d (%v)", deb, len(vers), err)
	}
	ver := vers[0].Name()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "depmod", "-b", tmp, ver)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("depmod -b %s %s: %v: %s", tmp, ver, err, stderr.String())
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(final); statErr == nil {
			return nil // someone else finished first
		}
		return fmt.Errorf("unpack %s: %w", deb, err)
	}
	return nil
}
