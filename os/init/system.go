package rosinit

import (
	"os"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// System is the kernel as PID 1 uses it; tests pass a fake.
type System interface {
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string, flags int) error
	Mounted(target string) (bool, error)
	Mounts() ([]*mountinfo.Info, error)
	MkdirAll(path string, mode os.FileMode) error
	Symlink(target, link string) error
	ReadFile(path string) ([]byte, error)
	ReadDir(path string) ([]string, error)
	WriteFile(path string, data []byte) error
	Sethostname(name string) error
	Sync()
	Reboot(cmd int) error
}

// Host is the real System.
type Host struct{}

func (Host) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}
func (Host) Unmount(target string, flags int) error       { return unix.Unmount(target, flags) }
func (Host) Mounted(target string) (bool, error)          { return mountinfo.Mounted(target) }
func (Host) Mounts() ([]*mountinfo.Info, error)           { return mountinfo.GetMounts(nil) }
func (Host) MkdirAll(path string, mode os.FileMode) error { return os.MkdirAll(path, mode) }
func (Host) Symlink(target, link string) error            { return os.Symlink(target, link) }
func (Host) ReadFile(path string) ([]byte, error)         { return os.ReadFile(path) }
func (Host) ReadDir(path string) ([]string, error) {
	ents, err := os.ReadDir(path)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, err
}
func (Host) WriteFile(path string, data []byte) error {
	return os.WriteFile(path, data, 0o644)
}
func (Host) Sethostname(name string) error { return unix.Sethostname([]byte(name)) }
func (Host) Sync()                         { unix.Sync() }
func (Host) Reboot(cmd int) error          { return unix.Reboot(cmd) }
