package rosinit

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Mount is one entry of the boot mount table.
type Mount struct {
	Source, Target, FSType string
	Flags                  uintptr
	Data                   string
	Mode                   fs.FileMode // of the target directory, if created
}

const (
	nosuid = unix.MS_NOSUID
	nodev  = unix.MS_NODEV
	noexec = unix.MS_NOEXEC
)

// BootMounts is what stage 2 mounts, in order. Entries already mounted (by
// stage 1: devtmpfs, /run, /tmp) are left alone.
var BootMounts = []Mount{
	{Source: "proc", Target: "/proc", FSType: "proc", Flags: nosuid | nodev | noexec, Mode: 0o555},
	{Source: "sysfs", Target: "/sys", FSType: "sysfs", Flags: nosuid | nodev | noexec, Mode: 0o555},
	{Source: "devtmpfs", Target: "/dev", FSType: "devtmpfs", Flags: nosuid, Data: "mode=0755", Mode: 0o755},
	{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: nosuid | noexec, Data: "gid=5,mode=0620,ptmxmode=0666", Mode: 0o755},
	{Source: "shm", Target: "/dev/shm", FSType: "tmpfs", Flags: nosuid | nodev, Data: "mode=1777", Mode: 0o1777},
	{Source: "mqueue", Target: "/dev/mqueue", FSType: "mqueue", Flags: nosuid | nodev | noexec, Mode: 0o755},
	{Source: "cgroup2", Target: "/sys/fs/cgroup", FSType: "cgroup2", Flags: nosuid | nodev | noexec, Data: "nsdelegate", Mode: 0o755},
	{Source: "tmpfs", Target: "/run", FSType: "tmpfs", Flags: nosuid | nodev, Data: "mode=0755", Mode: 0o755},
	{Source: "tmpfs", Target: "/tmp", FSType: "tmpfs", Flags: nosuid | nodev, Data: "mode=1777", Mode: 0o1777},
}

// devLinks are the /dev symlinks devtmpfs does not make.
var devLinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
	{"/proc/kcore", "/dev/core"},
}

// mountAll mounts ms in order under root ("/" on a device), skipping the
// mounted ones; then makes the /dev links and the whole tree rshared, so
// mounts made by containers (mount onboot, docker volumes) propagate.
func mountAll(sys System, root string, ms []Mount) error {
	var errs []error
	for _, m := range ms {
		target := filepath.Join(root, m.Target)
		if ok, err := sys.Mounted(target); err == nil && ok {
			continue
		}
		if err := sys.MkdirAll(target, m.Mode); err != nil {
			errs = append(errs, fmt.Errorf("mkdir %s: %w", target, err))
			continue
		}
		if err := sys.Mount(m.Source, target, m.FSType, m.Flags, m.Data); err != nil {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.FSType, target, err))
		}
	}
	for _, l := range devLinks {
		if err := sys.Symlink(l[0], filepath.Join(root, l[1])); err != nil && !errors.Is(err, fs.ErrExist) {
			errs = append(errs, fmt.Errorf("symlink %s: %w", l[1], err))
		}
	}
	if err := sys.Mount("", root, "", unix.MS_REC|unix.MS_SHARED, ""); err != nil {
		errs = append(errs, fmt.Errorf("make %s rshared: %w", root, err))
	}
	return errors.Join(errs...)
}

// enableControllers writes every available cgroup v2 controller into the
// root's cgroup.subtree_control, one at a time so one refusal does not cost
// the others.
func enableControllers(sys System, cgroupRoot string) error {
	raw, err := sys.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("cgroup controllers: %w", err)
	}
	var errs []error
	for _, c := range strings.Fields(string(raw)) {
		if err := sys.WriteFile(filepath.Join(cgroupRoot, "cgroup.subtree_control"), []byte("+"+c)); err != nil {
			errs = append(errs, fmt.Errorf("enable cgroup controller %s: %w", c, err))
		}
	}
	return errors.Join(errs...)
}

// UnmountStep is one step of the shutdown unmount plan.
type UnmountStep struct {
	Target      string
	RemountOnly bool // the root: it cannot be unmounted, only made read-only
	ReadOnlyNow bool // already read-only: nothing to lose if unmount fails
}

// keptMounts are API filesystems left mounted at shutdown: nothing is
// written to them and later steps (and the kernel) still use them.
var keptMounts = []string{"/proc", "/sys", "/dev"}

// PlanUnmount orders the mounts for shutdown: deepest first (reverse mount
// order, children before parents), API filesystems kept, the root last and
// only remounted read-only.
func PlanUnmount(mounts []*mountinfo.Info) []UnmountStep {
	ms := append([]*mountinfo.Info(nil), mounts...)
	sort.SliceStable(ms, func(i, j int) bool {
		di, dj := strings.Count(ms[i].Mountpoint, "/"), strings.Count(ms[j].Mountpoint, "/")
		if di != dj {
			return di > dj
		}
		return ms[i].ID > ms[j].ID
	})
	var steps []UnmountStep
	var root *UnmountStep
	seen := map[string]bool{}
	for _, m := range ms {
		if kept(m.Mountpoint) || seen[m.Mountpoint] {
			continue
		}
		seen[m.Mountpoint] = true
		ro := hasOpt(m.Options, "ro")
		if m.Mountpoint == "/" {
			root = &UnmountStep{Target: "/", RemountOnly: true, ReadOnlyNow: ro}
			continue
		}
		steps = append(steps, UnmountStep{Target: m.Mountpoint, ReadOnlyNow: ro})
	}
	if root != nil {
		steps = append(steps, *root)
	}
	return steps
}

func kept(p string) bool {
	for _, k := range keptMounts {
		if p == k || strings.HasPrefix(p, k+"/") {
			return true
		}
	}
	return false
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}
