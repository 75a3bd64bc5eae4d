package slot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"

	"github.com/ros-os/ros/pkg/disk/payload/layout"
)

// Files of an OS payload that say what it is (pkg/osimage writes them).
const (
	VersionFile = "usr/lib/ros/version"
	ArchFile    = "usr/lib/ros/arch"
)

// ErrNoPayload: the slot holds no squashfs (empty, or being written).
var ErrNoPayload = errors.New("slot holds no payload")

// ReadFile returns the file name (slash path inside the root filesystem,
// e.g. VersionFile) from the root squashfs of the slot's payload, read with
// go-diskfs (zstd, xz and gzip alike).
func (s *Slot) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", name, s, err)
	}
	defer f.Close()
	part := io.NewSectionReader(f, s.Offset, s.size)
	l, err := layout.Read(part, s.size)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w: %w", name, s, ErrNoPayload, err)
	}
	fs, err := squashfs.Read(backend.Sub(file.New(f, true), s.Offset+l.Root.Offset, l.Root.Size), l.Root.Size, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w: %w", name, s, ErrNoPayload, err)
	}
	r, err := fs.OpenFile(strings.TrimPrefix(name, "/"), os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", name, s, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", name, s, err)
	}
	return b, nil
}

// Version returns the OS version recorded in the slot's payload
// (VersionFile, trimmed).
func (s *Slot) Version() (string, error) {
	b, err := s.ReadFile(VersionFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
