package containers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// StepKind says what a preparation Step does.
type StepKind int

// Kinds of preparation steps.
const (
	StepMount StepKind = iota
	StepMkdir
	StepCgroup
)

// Step is one action of a container's filesystem preparation.
type Step struct {
	Kind   StepKind
	Path   string // mount target, directory, or cgroup name
	Source string
	FSType string
	Flags  uintptr
	Data   string
}

func (s Step) String() string {
	switch s.Kind {
	case StepMount:
		return fmt.Sprintf("mount %s on %s type %s flags %#x data %q", s.Source, s.Path, s.FSType, s.Flags, s.Data)
	case StepMkdir:
		return "mkdir " + s.Path
	case StepCgroup:
		return "cgroup " + s.Path
	}
	return "?"
}

// PlanPrepare lists, in order, what to do before a container is created,
// the way LinuxKit's init does it: a writable container (one with a lower/
// directory and no runtime mount on its rootfs) gets a tmpfs on tmp/ and an
// overlay lower+tmp/upper on rootfs/; then runtime.json mounts (creating
// their targets and any overlay upperdir/workdir), mkdirs, and cgroups.
//
// Absolute paths in runtime.json name paths of the assembled tree, which is
// mounted at root ("/" on a device); relative ones are inside the
// container's rootfs.
func PlanPrepare(root, bundle string, rt Runtime, hasLower bool) []Step {
	rootfs := filepath.Join(bundle, "rootfs")
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Join(root, p)
		}
		return filepath.Join(rootfs, p)
	}
	inTree := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Join(root, p)
		}
		return p
	}
	var steps []Step
	rootfsMounted := false
	for _, m := range rt.Mounts {
		if abs(m.Destination) == rootfs {
			rootfsMounted = true
		}
	}
	if hasLower && !rootfsMounted {
		tmp := filepath.Join(bundle, "tmp")
		upper, work := filepath.Join(tmp, "upper"), filepath.Join(tmp, "work")
		steps = append(steps,
			Step{Kind: StepMount, Path: tmp, Source: "tmpfs", FSType: "tmpfs", Data: "size=10%"},
			Step{Kind: StepMkdir, Path: upper},
			Step{Kind: StepMkdir, Path: work},
			Step{Kind: StepMount, Path: rootfs, Source: "overlay", FSType: "overlay",
				Data: fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", filepath.Join(bundle, "lower"), upper, work)},
		)
	}
	for _, m := range rt.Mounts {
		flags, data := ParseMountOptions(m.Options)
		target := abs(m.Destination)
		steps = append(steps, Step{Kind: StepMkdir, Path: target})
		var opts []string
		for _, o := range strings.Split(data, ",") {
			k, v, ok := strings.Cut(o, "=")
			if ok && (k == "upperdir" || k == "workdir" || k == "lowerdir") {
				var dirs []string
				for _, d := range strings.Split(v, ":") {
					dirs = append(dirs, inTree(d))
				}
				v = strings.Join(dirs, ":")
				if k != "lowerdir" {
					steps = append(steps, Step{Kind: StepMkdir, Path: v})
				}
				o = k + "=" + v
			}
			if o != "" {
				opts = append(opts, o)
			}
		}
		src := m.Source
		if flags&unix.MS_BIND != 0 {
			src = inTree(src)
		}
		steps = append(steps, Step{Kind: StepMount, Path: target, Source: src, FSType: m.Type, Flags: flags, Data: strings.Join(opts, ",")})
	}
	for _, d := range rt.Mkdir {
		steps = append(steps, Step{Kind: StepMkdir, Path: abs(d)})
	}
	for _, c := range rt.Cgroups {
		steps = append(steps, Step{Kind: StepCgroup, Path: c})
	}
	return steps
}

// ParseMountOptions splits fstab-style options into mount(2) flags and the
// filesystem data string.
func ParseMountOptions(options []string) (uintptr, string) {
	type fl struct {
		clear bool
		flag  uintptr
	}
	table := map[string]fl{
		"async": {true, unix.MS_SYNCHRONOUS}, "atime": {true, unix.MS_NOATIME},
		"bind": {false, unix.MS_BIND}, "defaults": {false, 0},
		"dev": {true, unix.MS_NODEV}, "diratime": {true, unix.MS_NODIRATIME},
		"dirsync": {false, unix.MS_DIRSYNC}, "exec": {true, unix.MS_NOEXEC},
		"mand": {false, unix.MS_MANDLOCK}, "noatime": {false, unix.MS_NOATIME},
		"nodev": {false, unix.MS_NODEV}, "nodiratime": {false, unix.MS_NODIRATIME},
		"noexec": {false, unix.MS_NOEXEC}, "nomand": {true, unix.MS_MANDLOCK},
		"norelatime": {true, unix.MS_RELATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
		"nosuid": {false, unix.MS_NOSUID}, "private": {false, unix.MS_PRIVATE},
		"rbind": {false, unix.MS_BIND | unix.MS_REC}, "relatime": {false, unix.MS_RELATIME},
		"remount": {false, unix.MS_REMOUNT}, "ro": {false, unix.MS_RDONLY},
		"rw": {true, unix.MS_RDONLY}, "shared": {false, unix.MS_SHARED},
		"rshared": {false, unix.MS_SHARED | unix.MS_REC}, "slave": {false, unix.MS_SLAVE},
		"rslave": {false, unix.MS_SLAVE | unix.MS_REC}, "rprivate": {false, unix.MS_PRIVATE | unix.MS_REC},
		"strictatime": {false, unix.MS_STRICTATIME}, "suid": {true, unix.MS_NOSUID},
		"sync": {false, unix.MS_SYNCHRONOUS}, "unbindable": {false, unix.MS_UNBINDABLE},
	}
	var flags uintptr
	var data []string
	for _, o := range options {
		if f, ok := table[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		data = append(data, o)
	}
	return flags, strings.Join(data, ",")
}

// propagation flags cannot be combined with a new mount: they are applied
// by a second mount(2) call on the target.
const propagation = unix.MS_SHARED | unix.MS_SLAVE | unix.MS_PRIVATE | unix.MS_UNBINDABLE

// Apply performs steps. Mounts whose target is already a mount point are
// skipped, so preparing a bundle again (a restarted daemon) is harmless.
func Apply(steps []Step) error {
	for _, s := range steps {
		switch s.Kind {
		case StepMkdir:
			if err := os.MkdirAll(s.Path, 0o755); err != nil {
				return fmt.Errorf("mkdir %s: %w", s.Path, err)
			}
		case StepMount:
			if err := mount(s); err != nil {
				return err
			}
		case StepCgroup:
			if err := makeCgroup(s.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

// mount performs one mount step: the mount itself (skipped when the target
// is already a mount point), then any propagation change, which mount(2)
// only accepts on its own.
func mount(s Step) error {
	prop := s.Flags & propagation
	base := s.Flags &^ (propagation | unix.MS_REC)
	if s.Flags&unix.MS_BIND != 0 {
		base |= s.Flags & unix.MS_REC
	}
	creates := s.FSType != "" || base&unix.MS_BIND != 0 || prop == 0
	if creates {
		mounted, _ := mountinfo.Mounted(s.Path)
		if !mounted || s.Flags&unix.MS_REMOUNT != 0 {
			if err := unix.Mount(s.Source, s.Path, s.FSType, base, s.Data); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
	}
	if prop != 0 {
		if err := unix.Mount("", s.Path, "", prop|s.Flags&unix.MS_REC, ""); err != nil {
			return fmt.Errorf("set propagation of %s: %w", s.Path, err)
		}
	}
	return nil
}

func makeCgroup(name string) error {
	const root = "/sys/fs/cgroup"
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", name, err)
		}
		return nil
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("create cgroup %s: %w", name, err)
	}
	for _, e := range ents {
		if e.IsDir() {
			_ = os.MkdirAll(filepath.Join(root, e.Name(), name), 0o755)
		}
	}
	return nil
}

// Cleanup unmounts, in reverse order, the mounts of steps that lie inside
// bundle (rootfs overlay, tmp): best effort, for one-shot containers.
func Cleanup(bundle string, steps []Step) {
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.Kind != StepMount || !strings.HasPrefix(s.Path, bundle+string(filepath.Separator)) {
			continue
		}
		_ = unix.Unmount(s.Path, unix.MNT_DETACH)
	}
}

// HasLower reports whether bundle is a writable container (LinuxKit puts
// its image in lower/ and mounts an overlay on rootfs/).
func HasLower(bundle string) bool {
	fi, err := os.Stat(filepath.Join(bundle, "lower"))
	return err == nil && fi.IsDir()
}
