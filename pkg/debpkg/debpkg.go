// Package debpkg unpacks Debian packages into a tar with
// `mmdebstrap --variant=extract`: dependencies are resolved by apt, nothing
// is configured (no maintainer scripts) and the Essential set is not added.
// Downloaded .debs and apt lists are kept in a cache directory, so a second
// build of the same package set downloads no packages.
package debpkg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// ErrNoMmdebstrap is returned when mmdebstrap is not installed.
var ErrNoMmdebstrap = errors.New("mmdebstrap not found (apt-get install mmdebstrap)")

// DefaultSuite is used when a recipe names none.
const DefaultSuite = "bookworm"

// Options describe one extraction.
type Options struct {
	Suite    string   // Debian suite; DefaultSuite when empty
	Packages []string // package names, optionally name=version
	// Sources are apt source lines; empty means the suite, its -updates and
	// its security archive on deb.debian.org, main component.
	Sources  []string
	CacheDir string    // .deb and list cache (e.g. ~/.cache/ros/apt); required
	Arch     string    // Debian architecture; amd64 when empty
	Log      io.Writer // mmdebstrap output; discarded when nil
	// Offline skips `apt-get update` and uses the cached lists and .debs
	// only: no network access, and an error if something is not cached.
	Offline bool
}

// DefaultSources returns the apt source lines used for suite.
func DefaultSources(suite string) []string {
	return []string{
		"deb http://deb.debian.org/debian " + suite + " main",
		"deb http://deb.debian.org/debian " + suite + "-updates main",
		"deb http://deb.debian.org/debian-security " + suite + "-security main",
	}
}

// Extract unpacks the packages (with their dependencies) into the tar file
// out, files owned as in the packages. As root it runs mmdebstrap in root
// mode. Unprivileged, mmdebstrap picks its mode itself (unshare: user
// namespaces) and Extract adds Debian's tar to the package set, because
// mmdebstrap then packs the result with the target's own tar: recipes
// with keep: rules give the same image either way, others also hold
// tar's files.
func Extract(ctx context.Context, o Options, out string) error {
	if len(o.Packages) == 0 {
		return fmt.Errorf("extract: no packages")
	}
	bin, err := exec.LookPath("mmdebstrap")
	if err != nil {
		return ErrNoMmdebstrap
	}
	if o.CacheDir == "" {
		return fmt.Errorf("extract: no cache dir")
	}
	suite := o.Suite
	if suite == "" {
		suite = DefaultSuite
	}
	arch := o.Arch
	if arch == "" {
		arch = "amd64"
	}
	sources := o.Sources
	if len(sources) == 0 {
		sources = DefaultSources(suite)
	}
	archives := filepath.Join(o.CacheDir, "archives")
	lists := filepath.Join(o.CacheDir, "lists")
	for _, d := range []string{archives, lists} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("extract: apt cache: %w", err)
		}
	}
	// One mmdebstrap at a time per cache: sync-out must not race.
	unlock, err := lockFile(filepath.Join(o.CacheDir, ".lock"))
	if err != nil {
		return err
	}
	defer unlock()

	pkgs := append([]string(nil), o.Packages...)
	if os.Geteuid() != 0 {
		// Unprivileged, mmdebstrap picks unshare (or fakechroot) mode and
		// packs the result with the target's own tar, which the extract
		// variant does not install by itself.
		if !contains(pkgs, "tar") {
			pkgs = append(pkgs, "tar")
		}
	}
	sort.Strings(pkgs)
	args := []string{
		"--variant=extract",
		"--architectures=" + arch,
		"--include=" + strings.Join(pkgs, ","),
		"--format=tar",
		// Seed the chroot's apt cache and lists from ours, and copy back
		// what apt fetched once packages are extracted (extract-hook is the
		// last hook the extract variant runs).
		`--setup-hook=mkdir -p "$1"/var/cache/apt/archives/ "$1"/var/lib/apt/lists/`,
		"--setup-hook=sync-in " + archives + " /var/cache/apt/archives/",
		"--setup-hook=sync-in " + lists + " /var/lib/apt/lists/",
		"--extract-hook=sync-out /var/cache/apt/archives " + archives,
		"--extract-hook=sync-out /var/lib/apt/lists " + lists,
		suite, out,
	}
	if o.Offline {
		if ents, _ := os.ReadDir(lists); !hasLists(ents) {
			return fmt.Errorf("extract offline: no cached apt lists in %s: build once online first", lists)
		}
		args = append([]string{"--skip=update"}, args...)
	}
	args = append(args, sources...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var tail tailBuffer
	w := io.Writer(&tail)
	if o.Log != nil {
		w = io.MultiWriter(o.Log, &tail)
	}
	cmd.Stdout, cmd.Stderr = w, w
	// Debian's tools honour SOURCE_DATE_EPOCH; keep the host's locale out.
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mmdebstrap %s (%s): %w\n%s", suite, strings.Join(pkgs, " "), err, tail.String())
	}
	return nil
}

func hasLists(ents []os.DirEntry) bool {
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), "_Packages") {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lockFile(p string) (func(), error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock apt cache: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock apt cache: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) // Close releases it anyway
		f.Close()
	}, nil
}

// tailBuffer keeps the last 4 KiB written to it, for error messages.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
