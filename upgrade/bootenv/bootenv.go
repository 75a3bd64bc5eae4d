// Package bootenv reads and writes the A/B boot state (GRUB's grubenv) so
// that a power cut at any byte leaves a readable state behind.
//
// The ESP holds two copies, EFI/BOOT/grubenv (the primary, which grub.cfg
// prefers) and EFI/BOOT/grubenv.bak. Save seals the block (pkg/grub's
// ros_sum ... ros_sum_end), writes the backup in place and syncs it, then
// the primary. A cut during the backup write leaves the old primary; a cut
// during the primary write leaves a primary whose seal fails and a complete
// backup. Load takes the primary when its seal checks, else the backup,
// and reports which (Report), so callers can log it. grub.cfg makes the
// same choice (see pkg/grub).
package bootenv

import (
	"errors"
	"fmt"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// Store holds a grubenv. Save seals env (it changes env).
type Store interface {
	Load() (*grubenv.Env, error)
	Save(*grubenv.Env) error
}

// The two copies, as named in a Report.
const (
	Primary = grub.EnvFile       // "grubenv"
	Backup  = grub.EnvBackupFile // "grubenv.bak"
)

// ErrNoEnv is returned by Load when neither copy can be read.
var ErrNoEnv = errors.New("no readable grubenv copy")

// Report says which copy a Load returned and why.
type Report struct {
	Copy     string // Primary or Backup
	Verified bool   // the copy's seal checked (false: an unsealed or damaged block, chosen as GRUB would)
	// PrimaryErr says why the primary was not used, or why it was used
	// unverified; nil when the primary was used and verified.
	PrimaryErr error
	// BackupErr is the backup's problem when it was read and found
	// unusable (nil when it was not needed or was fine).
	BackupErr error
}

// String is a line for a log.
func (r Report) String() string {
	s := "grubenv: using " + r.Copy
	if !r.Verified {
		s += " (unverified)"
	}
	if r.PrimaryErr != nil {
		s += "; primary: " + r.PrimaryErr.Error()
	}
	if r.BackupErr != nil {
		s += "; backup: " + r.BackupErr.Error()
	}
	return s
}

// parse parses one copy read with readErr: env is the strictly parsed
// block (nil with parseErr set when it is not valid), sealErr says whether
// its seal checks, and loose is the block as GRUB reads it (nil when GRUB
// cannot load it either).
func parse(name string, b []byte, readErr error) (env, loose *grubenv.Env, parseErr, sealErr error) {
	if readErr != nil {
		return nil, nil, readErr, nil
	}
	loose, _ = grubenv.ParseLoose(b)
	env, err := grubenv.Parse(b)
	if err != nil {
		return nil, loose, fmt.Errorf("%s: %w", name, err), nil
	}
	if err := grub.CheckSeal(env); err != nil {
		return env, loose, nil, fmt.Errorf("%s: %w", name, err)
	}
	return env, loose, nil, nil
}

// Choose picks the copy to use from the raw bytes of both (or the errors
// reading them). First the primary if its seal checks, then the backup if
// its seal checks. Failing both it chooses as grub.cfg does, which has no
// CRC and reads damaged blocks leniently (grubenv.ParseLoose): the primary
// if its ros_sum equals its ros_sum_end, else the backup if GRUB can load
// it, else the primary if GRUB can load it.
func Choose(primary []byte, primaryErr error, backup []byte, backupErr error) (*grubenv.Env, Report, error) {
	p, pLoose, pParse, pSeal := parse(Primary, primary, primaryErr)
	if p != nil && pSeal == nil {
		return p, Report{Copy: Primary, Verified: true}, nil
	}
	rep := Report{PrimaryErr: pParse}
	if pSeal != nil {
		rep.PrimaryErr = pSeal
	}
	b, bLoose, bParse, bSeal := parse(Backup, backup, backupErr)
	rep.BackupErr = bParse
	if b != nil && bSeal == nil {
		rep.Copy, rep.Verified = Backup, true
		return b, rep, nil
	}
	if bSeal != nil {
		rep.BackupErr = bSeal
	}
	switch {
	case pLoose != nil && grub.SealsAgree(pLoose):
		rep.Copy = Primary
		return pLoose, rep, nil
	case bLoose != nil:
		rep.Copy = Backup
		return bLoose, rep, nil
	case pLoose != nil:
		rep.Copy = Primary
		return pLoose, rep, nil
	}
	return nil, rep, fmt.Errorf("%w: primary: %w; backup: %w", ErrNoEnv, rep.PrimaryErr, rep.BackupErr)
}

// sealed seals env and returns its block.
func sealed(env *grubenv.Env) ([]byte, error) {
	if err := grub.Seal(env); err != nil {
		return nil, err
	}
	return env.Marshal()
}
