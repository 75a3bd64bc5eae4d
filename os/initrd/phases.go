package initrd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ros-os/ros/pkg/disk/payload/layout"
	"github.com/ros-os/ros/pkg/initramfs"
	"github.com/ros-os/ros/pkg/kmod"
	"golang.org/x/sys/unix"
)

// Phases is stage 1, in order.
func Phases() []Phase {
	return []Phase{
		{"kernel-fs", mountKernelFS},
		{"cmdline", readCmdline},
		{"hugepages", setHugepages},
		{"modules", loadModules},
		{"find-root", findRoot},
		{"mount-root", mountRoot},
		{"mount-tmpfs", mountTmpfs},
		{"mount-state", mountState},
		{"move-mounts", moveMounts},
		{"debug-shell", debugShell},
		{"switch-root", switchRoot},
	}
}

type mountSpec struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

func mountAll(s *State, specs []mountSpec) error {
	for _, m := range specs {
		if err := os.MkdirAll(s.Sys.Path(m.target), 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", m.target, err)
		}
		if err := s.Sys.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	return nil
}

func mountKernelFS(ctx context.Context, s *State) error {
	const nosuid = unix.MS_NOSUID | unix.MS_NOEXEC
	err := mountAll(s, []mountSpec{
		{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
		{"proc", "/proc", "proc", nosuid | unix.MS_NODEV, ""},
		{"sysfs", "/sys", "sysfs", nosuid | unix.MS_NODEV, ""},
	})
	if errors.Is(err, unix.EBUSY) {
		return nil // already mounted (CONFIG_DEVTMPFS_MOUNT, or a second run)
	}
	return err
}

func readCmdline(ctx context.Context, s *State) error {
	data, err := os.ReadFile(s.Sys.Path("/proc/cmdline"))
	if err != nil {
		return fmt.Errorf("read kernel command line: %w", err)
	}
	cfg, err := ParseConfig(string(data))
	if err != nil {
		return fmt.Errorf("kernel command line: %w", err)
	}
	s.Config = cfg
	return nil
}

// loadModules loads the modules the initramfs lists, then coldplugs: loads
// the drivers of the devices present. Single failures are reported, not
// fatal: a missing driver shows up as a root that cannot be found.
func loadModules(ctx context.Context, s *State) error {
	release, err := s.Sys.Release()
	if err != nil {
		return err
	}
	dir := path.Join("/lib/modules", release)
	ix, err := kmod.Open(s.Sys.Path(dir))
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, kmod.ErrNoModulesDep) {
		s.Logf("no modules for kernel %s in the initramfs: relying on built-in drivers", release)
		return nil
	}
	if err != nil {
		return err
	}
	confs, _ := filepath.Glob(s.Sys.Path("/etc/modprobe.d/*.conf"))
	for _, c := range confs { // softdep, options and blacklist lines, if the image ships any
		if err := addConfig(ix, c); err != nil {
			s.Logf("warning: %v", err)
		}
	}
	log := slog.New(slog.NewTextHandler(prefixWriter{s}, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	l := kmod.NewLoader(ix, s.Sys.InsertModule, log)
	names, err := readList(s.Sys.Path("/" + initramfs.ModuleListPath))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, n := range names {
		if err := l.Load(ctx, n); err != nil {
			s.Logf("warning: %v", err)
		}
	}
	s.Rescan = func(ctx context.Context) {
		for pass := 0; pass < 5; pass++ { // a new driver brings new devices
			n, err := l.Coldplug(ctx, s.Sys.Path("/sys"))
			if err != nil {
				s.Logf("warning: %v", err)
			}
			if n == 0 {
				return
			}
		}
	}
	s.Rescan(ctx)
	s.Logf("%d modules loaded (%dms in the kernel)", len(l.Loaded()), l.Elapsed().Milliseconds())
	return ctx.Err()
}

func addConfig(ix *kmod.Index, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := ix.AddConfig(f); err != nil {
		return fmt.Errorf("modprobe config %s: %w", file, err)
	}
	return nil
}

func readList(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// mountRoot mounts the payload's root squashfs read-only: the device or
// file itself when it is one squashfs, else a loop device over the part
// after the boot squashfs (see package layout).
func mountRoot(ctx context.Context, s *State) error {
	dev := s.Root.Source
	l, err := readLayout(s.Sys, dev)
	if err != nil {
		return fmt.Errorf("root %s: %w", dev, err)
	}
	if s.Root.File || l.Split() {
		loop, err := s.Sys.LoopAttach(dev, l.Root.Offset)
		if err != nil {
			return fmt.Errorf("attach %s to a loop device: %w", dev, err)
		}
		dev = loop
	}
	if err := mountAll(s, []mountSpec{{dev, NewRoot, "squashfs", unix.MS_RDONLY, ""}}); err != nil {
		return err
	}
	var missing []string
	for _, d := range []string{"/dev", "/proc", "/sys", "/run", "/tmp", "/var"} {
		if fi, err := os.Stat(s.Sys.Path(NewRoot + d)); err != nil || !fi.IsDir() {
			missing = append(missing, d)
		}
	}
	for _, d := range OverlayDirs {
		if fi, err := os.Stat(s.Sys.Path(NewRoot + d)); err != nil || !fi.IsDir() {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("root %s lacks the mount points %s", s.Root.Source, strings.Join(missing, " "))
	}
	s.Logf("root: %s squashfs from %s (%s at byte %d), read-only", s.Root.Kind, s.Root.Source, l.Root.Compression, l.Root.Offset)
	return nil
}

// readLayout finds the parts of the payload in the device or file dev.
func readLayout(sys System, dev string) (layout.Layout, error) {
	f, err := os.Open(sys.Path(dev))
	if err != nil {
		return layout.Layout{}, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd) // a block device's size too
	if err != nil {
		return layout.Layout{}, fmt.Errorf("size of %s: %w", dev, err)
	}
	return layout.Read(f, size)
}

// mountTmpfs puts tmpfs on /run and /tmp of the new root and makes the
// OverlayDirs writable with an overlay whose upper layer is in a tmpfs at
// /run/ros/overlay.
func mountTmpfs(ctx context.Context, s *State) error {
	const flags = unix.MS_NOSUID | unix.MS_NODEV
	specs := []mountSpec{
		{"tmpfs", NewRoot + "/run", "tmpfs", flags, "mode=0755"},
		{"tmpfs", NewRoot + "/tmp", "tmpfs", flags, "mode=1777"},
		{"tmpfs", NewRoot + OverlayDir, "tmpfs", flags, "mode=0755"},
	}
	if err := mountAll(s, specs); err != nil {
		return err
	}
	for _, d := range OverlayDirs {
		base := NewRoot + OverlayDir + d
		for _, sub := range []string{"upper", "work"} {
			if err := os.MkdirAll(s.Sys.Path(base+"/"+sub), 0o755); err != nil {
				return fmt.Errorf("overlay for %s: %w", d, err)
			}
		}
		data := fmt.Sprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", NewRoot+d, base, base)
		if err := s.Sys.Mount("overlay", NewRoot+d, "overlay", 0, data); err != nil {
			return fmt.Errorf("mount overlay on %s: %w", d, err)
		}
	}
	return nil
}

// moveMounts moves the live medium and the kernel filesystems into the new root.
func moveMounts(ctx context.Context, s *State) error {
	var moves []string
	if s.Root.Media != "" {
		moves = append(moves, MediaDir)
	}
	moves = append(moves, "/dev", "/proc", "/sys")
	for _, m := range moves {
		if err := mountAll(s, []mountSpec{{m, NewRoot + m, "", unix.MS_MOVE, ""}}); err != nil {
			return err
		}
	}
	return nil
}

func debugShell(ctx context.Context, s *State) error {
	if !s.Config.Debug {
		return nil
	}
	if _, err := resolveIn(s.Sys.Path(NewRoot), "/bin/sh"); err != nil {
		s.Logf("ros.debug: the root has no /bin/sh (%v); continuing", err)
		return nil
	}
	s.Logf("ros.debug: starting /bin/sh in the new root; exit it to continue booting")
	if err := s.Sys.Shell(ctx, NewRoot); err != nil {
		s.Logf("ros.debug: shell: %v", err)
	}
	return nil
}

func switchRoot(ctx context.Context, s *State) error {
	if _, err := resolveIn(s.Sys.Path(NewRoot), s.Config.Init); err != nil {
		return fmt.Errorf("init %s in the new root: %w", s.Config.Init, err)
	}
	s.Logf("switching root to %s, running %s", s.Root.Source, s.Config.Init)
	return s.Sys.SwitchRoot(NewRoot, s.Config.Init)
}

// resolveIn follows p inside root as if root were /, symlinks included, and
// returns the host path of the regular file it names.
func resolveIn(root, p string) (string, error) {
	cur := "/"
	rest := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		next := path.Join(cur, name)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("%s: too many symlinks", p)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		rest = append(strings.Split(strings.Trim(path.Clean(target), "/"), "/"), rest...)
		cur = "/"
	}
	host := filepath.Join(root, cur)
	fi, err := os.Stat(host)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", p)
	}
	return host, nil
}

// prefixWriter gives each line written through it the console prefix.
type prefixWriter struct{ s *State }

func (w prefixWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.s.Logf("%s", line)
	}
	return len(p), nil
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
