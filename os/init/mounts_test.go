package rosinit

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
)

// fakeSys records calls; mounted targets and files are preset.
type fakeSys struct {
	mounted map[string]bool
	files   map[string]string
	calls   []string
}

func (f *fakeSys) rec(s string) { f.calls = append(f.calls, s) }
func (f *fakeSys) Mount(source, target, fstype string, flags uintptr, data string) error {
	f.rec("mount " + fstype + " " + target)
	return nil
}
func (f *fakeSys) Unmount(target string, flags int) error { f.rec("umount " + target); return nil }
func (f *fakeSys) Mounted(target string) (bool, error)    { return f.mounted[target], nil }
func (f *fakeSys) Mounts() ([]*mountinfo.Info, error)     { return nil, nil }
func (f *fakeSys) MkdirAll(path string, mode os.FileMode) error {
	return nil
}
func (f *fakeSys) Symlink(target, link string) error { f.rec("ln " + link); return nil }
func (f *fakeSys) ReadFile(path string) ([]byte, error) {
	if s, ok := f.files[path]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

// ReadDir lists the names directly under path among the preset files.
func (f *fakeSys) ReadDir(path string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for p := range f.files {
		rest, ok := strings.CutPrefix(p, path+"/")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, "/")
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fs.ErrNotExist
	}
	return names, nil
}
func (f *fakeSys) WriteFile(path string, data []byte) error {
	f.rec("write " + path + " " + string(data))
	if strings.HasSuffix(string(data), "bad") {
		return errors.New("refused")
	}
	return nil
}
func (f *fakeSys) Sethostname(name string) error { f.rec("hostname " + name); return nil }
func (f *fakeSys) Sync()                         {}
func (f *fakeSys) Reboot(cmd int) error          { return nil }

func TestMountAllSkipsMounted(t *testing.T) {
	f := &fakeSys{mounted: map[string]bool{"/dev": true, "/run": true, "/tmp": true}}
	if err := mountAll(f, "/", BootMounts); err != nil {
		t.Fatal(err)
	}
	var mounts []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "mount ") {
			mounts = append(mounts, c)
		}
	}
	want := []string{
		"mount proc /proc", "mount sysfs /sys", "mount devpts /dev/pts", "mount tmpfs /dev/shm",
		"mount mqueue /dev/mqueue", "mount cgroup2 /sys/fs/cgroup", "mount  /", // rshared
	}
	if !reflect.DeepEqual(mounts, want) {
		t.Errorf("mounts = %q, want %q", mounts, want)
	}
}

func TestEnableControllers(t *testing.T) {
	f := &fakeSys{files: map[string]string{"/sys/fs/cgroup/cgroup.controllers": "cpuset cpu bad memory\n"}}
	err := enableControllers(f, "/sys/fs/cgroup")
	want := []string{
		"write /sys/fs/cgroup/cgroup.subtree_control +cpuset",
		"write /sys/fs/cgroup/cgroup.subtree_control +cpu",
		"write /sys/fs/cgroup/cgroup.subtree_control +bad",
		"write /sys/fs/cgroup/cgroup.subtree_control +memory",
	}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("calls = %q, want %q", f.calls, want)
	}
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("enableControllers() = %v, want an error naming the refused controller only", err)
	}
}

func TestHostname(t *testing.T) {
	tests := []struct {
		file string
		has  bool
		want string
	}{
		{"", false, "ros"},
		{"\n", true, "ros"},
		{"box1\n", true, "box1"},
	}
	for _, tt := range tests {
		f := &fakeSys{files: map[string]string{}}
		if tt.has {
			f.files["/etc/hostname"] = tt.file
		}
		if got := Hostname(f, "/"); got != tt.want {
			t.Errorf("Hostname(%q) = %q, want %q", tt.file, got, tt.want)
		}
	}
}

func TestPlanUnmount(t *testing.T) {
	ms := []*mountinfo.Info{
		{ID: 1, Mountpoint: "/", Options: "rw"},
		{ID: 2, Mountpoint: "/proc", Options: "rw"},
		{ID: 3, Mountpoint: "/sys", Options: "rw"},
		{ID: 4, Mountpoint: "/sys/fs/cgroup", Options: "rw"},
		{ID: 5, Mountpoint: "/dev", Options: "rw"},
		{ID: 6, Mountpoint: "/dev/pts", Options: "rw"},
		{ID: 7, Mountpoint: "/run", Options: "rw"},
		{ID: 8, Mountpoint: "/var", Options: "rw"},
		{ID: 9, Mountpoint: "/var/lib/docker", Options: "rw"},
		{ID: 10, Mountpoint: "/media/lower", Options: "ro"},
		{ID: 11, Mountpoint: "/run/netns/x", Options: "rw"},
	}
	var got []string
	for _, s := range PlanUnmount(ms) {
		g := s.Target
		if s.RemountOnly {
			g += " (remount ro)"
		}
		got = append(got, g)
	}
	want := []string{"/run/netns/x", "/var/lib/docker", "/media/lower", "/var", "/run", "/ (remount ro)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PlanUnmount() = %q, want %q", got, want)
	}
}

func TestHomeOnState(t *testing.T) {
	tests := []struct {
		name    string
		mounted map[string]bool
		want    []string
	}{
		{"overlay on the image's /home", nil, []string{"mount overlay /home"}},
		{"already there (init restarted)", map[string]bool{"/home": true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSys{mounted: tt.mounted}
			i := &Init{cfg: Config{Sys: f, Root: "/"}}
			if err := i.home(context.Background()); err != nil {
				t.Fatal(err)
			}
			if strings.Join(f.calls, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("home() did\n%s\nwant\n%s", strings.Join(f.calls, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
