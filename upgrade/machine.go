// Package upgrade moves a ros machine between OS versions atomically: it
// fetches a bundle, verifies it completely, writes its payload into the
// slot that is not running, reads it back, and only then points GRUB at
// that slot for one trial boot. The running slot is never written. The
// trial boot is kept only when rosd finds the machine healthy (MarkGood);
// otherwise GRUB falls back to the good slot and rosd there records the
// failure (Settle).
//
// The steps and the A/B state live in the subpackages: bundle (format,
// signatures), channel and fetch (where bundles come from), slot (the
// partitions) and bootenv (grubenv, written so a power cut at any byte
// leaves a bootable machine).
package upgrade

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/ros-os/ros/pkg/state"
	"github.com/ros-os/ros/upgrade/bootenv"
	"github.com/ros-os/ros/upgrade/bundle"
	"github.com/ros-os/ros/upgrade/slot"
)

// Errors callers branch on.
var (
	ErrLive      = errors.New("running from live media: there is no installed slot to upgrade (install first with 'ros install')")
	ErrBusy      = errors.New("another upgrade is in progress")
	ErrNoGood    = errors.New("the other slot holds no good image")
	ErrNoSource  = errors.New("no bundle given: pass --bundle, --image, --version or set a channel")
	ErrNoChannel = errors.New("no channel configured: set ros.upgrade.channel or pass --channel")
)

// History keeps the upgrade history (pkg/state.Store).
type History interface {
	AddUpgrade(ctx context.Context, u state.Upgrade) (int64, error)
	Upgrades(ctx context.Context, limit int) ([]state.Upgrade, error)
}

// Machine is what an upgrade acts on: the boot disk, its grubenv and the
// facts about the running system. Build it with the fields; the zero
// values of Log and Client are usable.
type Machine struct {
	Disk    *slot.Disk    // the boot disk; nil on live media
	Env     bootenv.Store // grubenv on the boot disk's ESP
	Booted  string        // slot this boot came from: "A", "B", or "" on live media
	Version string        // the running OS version

	Arch       string // the machine's architecture (GOARCH name)
	Compatible string // bundles must carry the same string

	Keys        []bundle.PublicKey // trusted signing keys
	History     History            // upgrade history; nil keeps none
	DownloadDir string             // where fetched bundles are kept until written
	Channel     string             // default channel index URL
	Client      *http.Client
	Log         *slog.Logger
	// Event, when set, receives what an operator should see in the event
	// log (kind "upgrade").
	Event func(ctx context.Context, subject, message string)
	// Sync, when set, flushes the machine's filesystems. It runs once the
	// bundle is verified, before the idle slot changes: what was written
	// before the upgrade then survives a power cut during it.
	Sync func()

	busy sync.Mutex
}

func (m *Machine) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

func (m *Machine) event(ctx context.Context, subject, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	m.log().Info(msg, "subject", subject)
	if m.Event != nil {
		m.Event(ctx, subject, msg)
	}
}

func (m *Machine) record(ctx context.Context, u state.Upgrade) {
	if m.History == nil {
		return
	}
	if _, err := m.History.AddUpgrade(ctx, u); err != nil {
		m.log().Warn("upgrade history", "err", err)
	}
}

// badVersions returns the versions whose trial boot failed: they are not
// tried again unless forced.
func (m *Machine) badVersions(ctx context.Context) []string {
	if m.History == nil {
		return nil
	}
	ups, err := m.History.Upgrades(ctx, 0)
	if err != nil {
		return nil
	}
	var bad []string
	for _, u := range ups {
		if u.Status == StatusFailed {
			bad = append(bad, u.Version)
		}
	}
	return bad
}

// Upgrade history statuses.
const (
	StatusInstalled  = "installed"   // written to a slot, trial boot pending
	StatusGood       = "good"        // trial boot healthy, slot kept
	StatusFailed     = "failed"      // trial boot failed, machine fell back
	StatusRolledBack = "rolled-back" // switched back with ros os rollback
)
