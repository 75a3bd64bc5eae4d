package grubenv

import (
	"fmt"
	"io"
	"os"
)

// ReadFile reads and validates the block at path.
func ReadFile(path string) (*Env, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read grubenv %s: %w", path, err)
	}
	e, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read grubenv %s: %w", path, err)
	}
	return e, nil
}

// ReadAt reads and validates the block at offset off of r (for example a
// grubenv file inside a disk image).
func ReadAt(r io.ReaderAt, off int64) (*Env, error) {
	b := make([]byte, Size)
	if _, err := r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read grubenv at offset %d: %w", off, err)
	}
	return Parse(b)
}

// WriteFile writes e to path as one 1024-byte write at offset 0 followed by
// fsync. An existing file is overwritten in place (not truncated first and
// not replaced), so it keeps the blocks GRUB's save_env writes through; a
// longer file is cut to Size afterwards.
func WriteFile(path string, e *Env) error {
	b, err := e.Marshal()
	if err != nil {
		return fmt.Errorf("write grubenv %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write grubenv %s: %w", path, err)
	}
	if err := writeBlock(f, b); err != nil {
		f.Close()
		return fmt.Errorf("write grubenv %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write grubenv %s: %w", path, err)
	}
	return nil
}

func writeBlock(f *os.File, b []byte) error {
	n, err := f.WriteAt(b, 0)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("short write: %d of %d bytes", n, len(b))
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > int64(len(b)) {
		if err := f.Truncate(int64(len(b))); err != nil {
			return err
		}
	}
	return f.Sync()
}

// Update reads the block at path, lets fn change it, and writes it back with
// WriteFile. fn's error aborts without writing.
func Update(path string, fn func(*Env) error) error {
	e, err := ReadFile(path)
	if err != nil {
		return err
	}
	if err := fn(e); err != nil {
		return fmt.Errorf("update grubenv %s: %w", path, err)
	}
	return WriteFile(path, e)
}
