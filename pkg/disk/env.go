package disk

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	diskfs "github.com/diskfs/go-diskfs"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// ReadEnv reads the primary grubenv on the ESP of a ros disk image without
// mounting it, as GRUB would find it (the seal is not checked; see
// upgrade/bootenv for the reader that falls back to the backup).
func ReadEnv(image string) (*grubenv.Env, error) {
	return ReadEnvFile(image, GrubEnvFile)
}

// ReadEnvFile reads one grubenv copy (GrubEnvFile or GrubEnvBackupFile) of
// a disk image.
func ReadEnvFile(image, file string) (*grubenv.Env, error) {
	b, err := ReadEnvBlock(image, file)
	if err != nil {
		return nil, err
	}
	env, err := grubenv.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", file, image, err)
	}
	return env, nil
}

// WriteEnv seals env (grub.Seal, which changes env) and writes it to both
// copies on the ESP of a disk image: the backup, then the primary, each in
// place with one 1024-byte write.
func WriteEnv(image string, env *grubenv.Env) error {
	if err := grub.Seal(env); err != nil {
		return fmt.Errorf("write grubenv in %s: %w", image, err)
	}
	block, err := env.Marshal()
	if err != nil {
		return fmt.Errorf("write grubenv in %s: %w", image, err)
	}
	for _, file := range []string{GrubEnvBackupFile, GrubEnvFile} {
		if err := WriteEnvBlock(image, file, block); err != nil {
			return err
		}
	}
	return nil
}

// ReadEnvBlock returns the raw bytes of an ESP file of a disk image (for a
// grubenv copy: its 1024-byte block, valid or not).
func ReadEnvBlock(image, file string) ([]byte, error) {
	d, err := diskfs.Open(image, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", file, image, err)
	}
	defer d.Close()
	fs, err := d.GetFilesystem(PartEFI)
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: ESP: %w", file, image, err)
	}
	f, err := fs.OpenFile(file, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", file, image, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", file, image, err)
	}
	return b, nil
}

// WriteEnvBlock overwrites an ESP file of a disk image in place (same
// file, same clusters) with block, which must be grubenv.Size bytes. A
// missing file is created with mtools (go-diskfs v1.9.1 leaves the FAT's
// free-cluster count wrong when it allocates). The bytes are not checked,
// so tests can write damaged blocks.
func WriteEnvBlock(image, file string, block []byte) error {
	if len(block) != grubenv.Size {
		return fmt.Errorf("write %s in %s: block is %d bytes, want %d", file, image, len(block), grubenv.Size)
	}
	d, err := diskfs.Open(image)
	if err != nil {
		return fmt.Errorf("write %s in %s: %w", file, image, err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	fs, err := d.GetFilesystem(PartEFI)
	if err != nil {
		return fmt.Errorf("write %s in %s: ESP: %w", file, image, err)
	}
	f, err := fs.OpenFile(file, os.O_RDWR)
	if err != nil {
		closed = true
		d.Close()
		if cerr := createESPFile(image, file, block); cerr != nil {
			return fmt.Errorf("write %s in %s: %w (opening it: %w)", file, image, cerr, err)
		}
		return nil
	}
	if n, err := f.Write(block); err != nil || n != len(block) {
		f.Close()
		if err == nil {
			err = io.ErrShortWrite
		}
		return fmt.Errorf("write %s in %s: wrote %d of %d bytes: %w", file, image, n, len(block), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s in %s: %w", file, image, err)
	}
	closed = true
	if err := d.Close(); err != nil {
		return fmt.Errorf("write %s in %s: %w", file, image, err)
	}
	return nil
}

// createESPFile adds a file to the ESP of a disk image with mcopy.
func createESPFile(image, file string, data []byte) error {
	l, err := ReadLayout(image)
	if err != nil {
		return err
	}
	esp, err := l.Find(LabelEFI)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ros-envfile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, path.Base(file))
	if err := os.WriteFile(src, data, 0o644); err != nil {
		return err
	}
	return tool(context.Background(), "mcopy", "-i", fmt.Sprintf("%s@@%d", image, esp.Start), "-o", src, "::"+file)
}
