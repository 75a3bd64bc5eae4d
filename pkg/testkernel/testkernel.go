// Package testkernel provides Debian's amd64 kernel to tests that boot QEMU
// or read real modules: the linux-image package linux-image-amd64 depends on
// is fetched once with apt-get, unpacked with dpkg-deb and indexed with
// depmod under $ROS_CACHE/testkernel (default ~/.cache/ros/testkernel), in a
// directory named after the .deb, and reused afterwards. The download is
// done in a temporary directory and renamed into place under a lock, so
// tests in parallel processes never see half a tree nor fetch twice.
package testkernel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ErrUnavailable means there is no unpacked kernel and it cannot be fetched
// here (no apt-get, apt-cache, dpkg-deb or depmod, or apt cannot download).
var ErrUnavailable = errors.New("test kernel unavailable")

// Kernel is an unpacked kernel package.
type Kernel struct {
	Root       string // the unpacked package tree (boot/, lib/modules/...)
	Version    string // uname -r, e.g. 6.1.0-56-amd64
	Vmlinuz    string // Root/boot/vmlinuz-<version>
	ModulesDir string // Root/lib/modules/<version>, indexed by depmod
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

// Find returns the newest kernel already unpacked in the cache, if any.
func Find() (Kernel, bool) { return find(CacheDir()) }

func find(dir string) (Kernel, bool) {
	entries, _ := os.ReadDir(dir)
	var found []Kernel
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue // temporary directories start with a dot
		}
		if k, err := kernelAt(filepath.Join(dir, e.Name())); err == nil {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return Kernel{}, false
	}
	sort.Slice(found, func(i, j int) bool { return naturalLess(found[i].Root, found[j].Root) })
	return found[len(found)-1], true
}

// kernelAt checks that root holds one indexed lib/modules/<version> and
// its boot/vmlinuz-<version>.
func kernelAt(root string) (Kernel, error) {
	deps, _ := filepath.Glob(filepath.Join(root, "lib", "modules", "*", "modules.dep"))
	if len(deps) != 1 {
		return Kernel{}, fmt.Errorf("%s: want one indexed lib/modules/<version>, found %d", root, len(deps))
	}
	modDir := filepath.Dir(deps[0])
	k := Kernel{Root: root, Version: filepath.Base(modDir), ModulesDir: modDir}
	k.Vmlinuz = filepath.Join(root, "boot", "vmlinuz-"+k.Version)
	if _, err := os.Stat(k.Vmlinuz); err != nil {
		return Kernel{}, err
	}
	return k, nil
}

// naturalLess orders strings with digit runs compared as numbers, so that
// 6.1.0-12 sorts after 6.1.0-9.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// Fetch returns the cached kernel, downloading, unpacking and indexing it
// first when needed. Errors that mean it cannot be had here wrap
// ErrUnavailable, so tests can skip.
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
	unlock, err := lock(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return Kernel{}, fmt.Errorf("fetch test kernel: %w", err)
	}
	defer unlock()
	if k, ok := Find(); ok { // another process fetched it while we waited
		return k, nil
	}
	root, err := fetch(ctx, dir)
	if err != nil {
		return Kernel{}, err
	}
	return kernelAt(root)
}

// Get returns the test kernel for t, fetching it when needed; it skips t
// when the kernel is unavailable here and fails it on other errors.
func Get(t testing.TB) Kernel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	k, err := Fetch(ctx)
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("no test kernel: %v", err)
	}
	if err != nil {
		t.Fatalf("testkernel.Fetch() = %v", err)
	}
	return k
}

// lock takes an exclusive flock on path, polling so that ctx is honoured.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing drops the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fetch downloads the linux-image package linux-image-amd64 depends on into
// a temporary directory in dir, unpacks it there, runs depmod and renames
// the tree to dir/<deb name>, which it returns.
func fetch(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", "linux-image-amd64").Output()
	if err != nil {
		return "", fmt.Errorf("fetch test kernel: apt-cache depends linux-image-amd64: %w: %w", err, ErrUnavailable)
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
	tmp, err := os.MkdirTemp(dir, ".fetch-")
	if err != nil {
		return "", fmt.Errorf("fetch test kernel: %w", err)
	}
	defer os.RemoveAll(tmp)
	dl := exec.CommandContext(ctx, "apt-get", "download", pkg)
	dl.Dir = tmp
	if out, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("fetch test kernel: apt-get download %s: %w: %s: %w", pkg, err, strings.TrimSpace(string(out)), ErrUnavailable)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("fetch test kernel: apt-get download %s left %d .deb files, want 1", pkg, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[0], err, out)
	}
	vers, err := os.ReadDir(filepath.Join(root, "lib", "modules"))
	if err != nil {
		return "", fmt.Errorf("unpack %s: %w", debs[0], err)
	}
	if len(vers) != 1 {
		return "", fmt.Errorf("unpack %s: want one lib/modules/<version>, got %d", debs[0], len(vers))
	}
	ver := vers[0].Name()
	if out, err := exec.CommandContext(ctx, "depmod", "-b", root, ver).CombinedOutput(); err != nil {
		return "", fmt.Errorf("depmod -b %s %s: %w: %s", root, ver, err, out)
	}
	final := filepath.Join(dir, strings.TrimSuffix(filepath.Base(debs[0]), ".deb"))
	if err := os.Rename(root, final); err != nil {
		if _, statErr := os.Stat(final); statErr == nil {
			return final, nil // someone else finished first
		}
		return "", fmt.Errorf("move test kernel into %s: %w", dir, err)
	}
	return final, nil
}
