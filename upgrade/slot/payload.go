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
)

// Files of an OS payload that say what it is (pkg/osimage writes them).
const (
	VersionFile = "usr/lib/ros/version"
	ArchFile    = "usr/lib/ros/arch"
)

// ErrNoPayload: the slot holds no squashfs (empty, or being written).
var ErrNoPayload = errors.New("slot holds no payload")

// ReadFile returns the file name (slash path inside the payload, e.g.
// VersionFile) from the slot's squashfs, read with go-diskfs (gzip and xz
// payloads alike).
func (s *Slot) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", name, s, err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.ReadAt(magic, s.Offset); err != nil || string(magic) != "hsqs" {
		return nil, fmt.Errorf("read %s from %s: %w (no squashfs magic)", name, s, ErrNoPayload)
	}
	fs, err := squashfs.Read(backend.Sub(file.New(f, true), s.Offset, s.size), s.size, 0, 0)
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
