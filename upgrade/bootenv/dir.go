package bootenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ros-os/ros/pkg/grubenv"
)

// DirStore is the grubenv pair in a directory: the EFI/BOOT folder of a
// mounted ESP. Use it through a pointer.
type DirStore struct {
	Dir string

	report Report
	// write writes one whole copy; tests replace it to cut the power.
	write func(path string, block []byte) error
}

var _ Store = (*DirStore)(nil)

// Paths of the two copies.
func (s *DirStore) primary() string { return filepath.Join(s.Dir, Primary) }
func (s *DirStore) backup() string  { return filepath.Join(s.Dir, Backup) }

// Load returns the copy Choose picks; Report says which.
func (s *DirStore) Load() (*grubenv.Env, error) {
	p, perr := os.ReadFile(s.primary())
	b, berr := os.ReadFile(s.backup())
	env, rep, err := Choose(p, perr, b, berr)
	s.report = rep
	if err != nil {
		return nil, fmt.Errorf("load grubenv in %s: %w", s.Dir, err)
	}
	return env, nil
}

// Report describes the last Load.
func (s *DirStore) Report() Report { return s.report }

// Save seals env and writes the backup, then the primary, each as one
// in-place write of the whole block followed by fsync.
func (s *DirStore) Save(env *grubenv.Env) error {
	block, err := sealed(env)
	if err != nil {
		return fmt.Errorf("save grubenv in %s: %w", s.Dir, err)
	}
	write := s.write
	if write == nil {
		write = writeBlock
	}
	for _, path := range []string{s.backup(), s.primary()} {
		if err := write(path, block); err != nil {
			return fmt.Errorf("save grubenv: %w", err)
		}
	}
	return nil
}

// SaveTorn is Save cut short: it writes the backup whole and only the
// first n bytes of the primary, as a power cut in the middle of the
// primary's write would. For tests of recovery (upgrade's pause points).
func (s *DirStore) SaveTorn(env *grubenv.Env, n int) error {
	block, err := sealed(env)
	if err != nil {
		return fmt.Errorf("save grubenv in %s: %w", s.Dir, err)
	}
	if n < 0 || n > len(block) {
		return fmt.Errorf("save grubenv torn at %d: outside the block", n)
	}
	if err := writeBlock(s.backup(), block); err != nil {
		return fmt.Errorf("save grubenv: %w", err)
	}
	if err := writeAt(s.primary(), block[:n]); err != nil {
		return fmt.Errorf("save grubenv: %w", err)
	}
	return nil
}

// writeBlock writes a whole block to path in place (not truncated, not
// replaced: GRUB's save_env writes through the file's blocks) and syncs
// it; a new file's directory is synced too.
func writeBlock(path string, block []byte) error {
	if len(block) != grubenv.Size {
		return fmt.Errorf("write %s: block is %d bytes, want %d", path, len(block), grubenv.Size)
	}
	_, err := os.Stat(path)
	created := errors.Is(err, fs.ErrNotExist)
	if err := writeAt(path, block); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > int64(len(block)) {
		if err := os.Truncate(path, int64(len(block))); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if created {
		d, err := os.Open(filepath.Dir(path))
		if err != nil {
			return fmt.Errorf("write %s: sync directory: %w", path, err)
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("write %s: sync directory: %w", path, err)
		}
	}
	return nil
}

// writeAt writes b at offset 0 of path with one write, then fsyncs.
func writeAt(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	n, err := f.WriteAt(b, 0)
	if err == nil && n != len(b) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(b))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
