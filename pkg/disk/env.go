package disk

import (
	"fmt"
	"io"
	"os"

	diskfs "github.com/diskfs/go-diskfs"

	"github.com/ros-os/ros/pkg/grubenv"
)

// ReadEnv reads the grubenv on the ESP of a ros disk image without
// mounting it.
func ReadEnv(image string) (*grubenv.Env, error) {
	d, err := diskfs.Open(image, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		return nil, fmt.Errorf("read grubenv in %s: %w", image, err)
	}
	defer d.Close()
	fs, err := d.GetFilesystem(PartEFI)
	if err != nil {
		return nil, fmt.Errorf("read grubenv in %s: ESP: %w", image, err)
	}
	f, err := fs.OpenFile(GrubEnvFile, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("read grubenv in %s: %w", image, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read grubenv in %s: %w", image, err)
	}
	env, err := grubenv.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read grubenv in %s: %w", image, err)
	}
	return env, nil
}

// WriteEnv overwrites the grubenv on the ESP of a ros disk image in place
// (same file, same clusters) with one 1024-byte write.
func WriteEnv(image string, env *grubenv.Env) error {
	block, err := env.Marshal()
	if err != nil {
		return fmt.Errorf("write grubenv in %s: %w", image, err)
	}
	d, err := diskfs.Open(image)
	if err != nil {
		return fmt.Errorf("write grubenv in %s: %w", image, err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	fs, err := d.GetFilesystem(PartEFI)
	if err != nil {
		return fmt.Errorf("write grubenv in %s: ESP: %w", image, err)
	}
	f, err := fs.OpenFile(GrubEnvFile, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("write grubenv in %s: %w", image, err)
	}
	if n, err := f.Write(block); err != nil || n != len(block) {
		f.Close()
		return fmt.Errorf("write grubenv in %s: wrote %d of %d bytes: %v", image, n, len(block), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write grubenv in %s: %w", image, err)
	}
	closed = true
	return d.Close()
}
