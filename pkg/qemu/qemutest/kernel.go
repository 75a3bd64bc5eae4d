package qemutest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// KernelPackage is a Debian kernel package unpacked in the shared cache.
type KernelPackage struct {
	Package string // e.g. linux-image-6.1.0-56-amd64
	Root    string // the unpacked package tree (boot/, lib/modules/...)
	Kernel  string // Root/boot/vmlinuz-<release>
	Release string // uname -r, e.g. 6.1.0-56-amd64
	Modules string // Root/lib/modules/<release>
}

// CacheDir returns the ros download cache: $ROS_CACHE, else ~/.cache/ros.
func CacheDir() (string, error) {
	if d := os.Getenv("ROS_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find cache dir: %w", err)
	}
	return filepath.Join(home, ".cache", "ros"), nil
}

var kernelPkgRE = regexp.MustCompile(`^linux-image-6\.1\.0-([0-9]+)-amd64$`)

// FetchKernel returns Debian's current linux-image-6.1.0-*-amd64 unpacked under
// cacheDir/testkernel/<package>. A kernel already in the cache is reused
// (the newest one) without asking apt. A download goes to a temporary
// directory beside the final one and is renamed into place, so several
// processes may fetch at once.
func FetchKernel(ctx context.Context, cacheDir string) (*KernelPackage, error) {
	base := filepath.Join(cacheDir, "testkernel")
	if kp, err := cachedKernel(base); err == nil {
		return kp, nil
	}
	pkg, err := currentKernelPackage(ctx)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", base, err)
	}
	tmp, err := os.MkdirTemp(base, ".tmp-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir in %s: %w", base, err)
	}
	defer os.RemoveAll(tmp)

	dl := exec.CommandContext(ctx, "apt-get", "download", pkg)
	dl.Dir = tmp
	if out, err := dl.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("apt-get download %s: %w: %s", pkg, err, strings.TrimSpace(string(out)))
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(debs) != 1 {
		return nil, fmt.Errorf("apt-get download %s: found %d .deb files, want 1", pkg, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[0], err, strings.TrimSpace(string(out)))
	}
	final := filepath.Join(base, pkg)
	if err := os.Rename(root, final); err != nil {
		// Another process may have won the race; use its copy.
		if _, statErr := os.Stat(final); statErr != nil {
			return nil, fmt.Errorf("move kernel into cache: %w", err)
		}
	}
	return kernelAt(pkg, final)
}

// cachedKernel returns the newest kernel package already unpacked under base.
func cachedKernel(base string) (*KernelPackage, error) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && kernelPkgRE.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no kernel in %s: %w", base, os.ErrNotExist)
	}
	sortByABI(names)
	pkg := names[len(names)-1]
	return kernelAt(pkg, filepath.Join(base, pkg))
}

func kernelAt(pkg, root string) (*KernelPackage, error) {
	release := strings.TrimPrefix(pkg, "linux-image-")
	kp := &KernelPackage{
		Package: pkg,
		Root:    root,
		Kernel:  filepath.Join(root, "boot", "vmlinuz-"+release),
		Release: release,
		Modules: filepath.Join(root, "lib", "modules", release),
	}
	if _, err := os.Stat(kp.Kernel); err != nil {
		return nil, fmt.Errorf("kernel package %s: %w", root, err)
	}
	return kp, nil
}

// currentKernelPackage asks apt for the newest linux-image-6.1.0-N-amd64.
func currentKernelPackage(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "search", "--names-only", `^linux-image-6\.1\.0-[0-9]+-amd64$`).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache search linux-image: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		if kernelPkgRE.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", errors.New("apt-cache search: no linux-image-6.1.0-*-amd64 package (run apt-get update?)")
	}
	sortByABI(names)
	return names[len(names)-1], nil
}

func sortByABI(names []string) {
	abi := func(s string) int {
		n, _ := strconv.Atoi(kernelPkgRE.FindStringSubmatch(s)[1])
		return n
	}
	sort.Slice(names, func(i, j int) bool { return abi(names[i]) < abi(names[j]) })
}
