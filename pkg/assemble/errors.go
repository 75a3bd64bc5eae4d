package assemble

import (
	"errors"

	"github.com/ros-os/ros/pkg/buildfile"
)

// ErrKernelFile is wrapped when the kernel image lacks the kernel binary,
// the kernel tar or the microcode archive the build file names.
var ErrKernelFile = errors.New("file not found in kernel image")

// EntryError is an error about one entry of the build file. Its message
// names the file, the line and the entry:
//
//	ros.yml:14: services[0] "getty": image docker.io/ros/getty: not found
type EntryError struct {
	Pos   buildfile.Pos
	Entry string // e.g. `services[0] "getty"`, `files "etc/motd"`, `kernel`
	Err   error
}

func (e *EntryError) Error() string {
	s := e.Pos.String()
	if s != "" {
		s += ": "
	}
	if e.Entry != "" {
		s += e.Entry + ": "
	}
	return s + e.Err.Error()
}

func (e *EntryError) Unwrap() error { return e.Err }

func entryErr(pos buildfile.Pos, entry string, err error) error {
	if err == nil {
		return nil
	}
	var fe *buildfile.Error
	if errors.As(err, &fe) {
		return err // already names the file, line and entry
	}
	return &EntryError{Pos: pos, Entry: entry, Err: err}
}
