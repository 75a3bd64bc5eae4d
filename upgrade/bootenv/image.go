package bootenv

import (
	"fmt"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/grubenv"
)

// ImageStore is the grubenv pair on the ESP of a ros disk image, read and
// written with go-diskfs without mounting (for tests and host tools). Use
// it through a pointer.
type ImageStore struct {
	Path string

	report Report
}

var _ Store = (*ImageStore)(nil)

var (
	imagePrimary = disk.GrubEnvFile
	imageBackup  = disk.GrubEnvBackupFile
)

// Load returns the copy Choose picks; Report says which.
func (s *ImageStore) Load() (*grubenv.Env, error) {
	p, perr := disk.ReadEnvBlock(s.Path, imagePrimary)
	b, berr := disk.ReadEnvBlock(s.Path, imageBackup)
	env, rep, err := Choose(p, perr, b, berr)
	s.report = rep
	if err != nil {
		return nil, fmt.Errorf("load grubenv in %s: %w", s.Path, err)
	}
	return env, nil
}

// Report describes the last Load.
func (s *ImageStore) Report() Report { return s.report }

// Save seals env and writes the backup, then the primary.
func (s *ImageStore) Save(env *grubenv.Env) error {
	block, err := sealed(env)
	if err != nil {
		return fmt.Errorf("save grubenv in %s: %w", s.Path, err)
	}
	for _, file := range []string{imageBackup, imagePrimary} {
		if err := disk.WriteEnvBlock(s.Path, file, block); err != nil {
			return fmt.Errorf("save grubenv: %w", err)
		}
	}
	return nil
}

// SaveTorn writes the backup whole and only the first n bytes of the
// primary over its old contents, as a power cut would.
func (s *ImageStore) SaveTorn(env *grubenv.Env, n int) error {
	block, err := sealed(env)
	if err != nil {
		return fmt.Errorf("save grubenv in %s: %w", s.Path, err)
	}
	if n < 0 || n > len(block) {
		return fmt.Errorf("save grubenv torn at %d: outside the block", n)
	}
	old, err := disk.ReadEnvBlock(s.Path, imagePrimary)
	if err != nil || len(old) != len(block) {
		old = make([]byte, len(block))
	}
	torn := append(append([]byte(nil), block[:n]...), old[n:]...)
	if err := disk.WriteEnvBlock(s.Path, imageBackup, block); err != nil {
		return fmt.Errorf("save grubenv: %w", err)
	}
	if err := disk.WriteEnvBlock(s.Path, imagePrimary, torn); err != nil {
		return fmt.Errorf("save grubenv: %w", err)
	}
	return nil
}
