package upgrade

import (
	"context"
	"fmt"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/state"
)

// Boot says what this boot means for the A/B state.
type Boot struct {
	// Trial is set when this boot is the trial of a newly written slot:
	// confirm it with MarkGood once healthy, or FailTrial and reboot.
	Trial   bool
	Slot    string // the booted slot
	Version string // its version as grubenv records it
	// FellBack is set when the previous boot was a trial that failed and
	// GRUB came back to this, the good slot. Check has recorded it.
	FellBack *Failure
}

// Failure is a trial that did not become good.
type Failure struct {
	Slot, Version, Reason string
	// Rollback is set when the trial was a rollback's, cut short: the slot
	// stays good.
	Rollback bool
}

// Check reads grubenv at boot. A failed trial found here (GRUB fell back)
// is settled at once: the slot is marked bad, the failure recorded with
// its reason, and the version is not tried again without --force.
func (m *Machine) Check(ctx context.Context) (Boot, error) {
	b := Boot{Slot: m.Booted}
	if m.Booted == "" || m.Env == nil {
		return b, nil
	}
	env, err := m.Env.Load()
	if err != nil {
		return b, fmt.Errorf("read grubenv: %w", err)
	}
	e := bootEnv{env}
	gs := e.state()
	b.Version = e.slot(m.Booted).Version
	switch {
	case gs.Try == m.Booted && gs.Good != m.Booted:
		b.Trial = true
		return b, nil
	case gs.Try != "" && gs.Try != m.Booted && gs.Tries == 0:
		f := Failure{Slot: gs.Try, Version: e.slot(gs.Try).Version}
		if last, _ := m.lastRecord(ctx, f); last.Status == StatusRolledBack {
			return m.rollbackCutShort(ctx, b, f)
		}
		err := m.updateEnv(ctx, func(e bootEnv) error {
			return grub.MarkBad(e.Env, f.Slot)
		}, "", nil)
		if err != nil {
			return b, err
		}
		f.Reason = m.failureReason(ctx, f)
		m.event(ctx, f.Version, "upgrade to %s failed, back on slot %s (%s): %s", f.Version, m.Booted, m.Version, f.Reason)
		b.FellBack = &f
	}
	return b, nil
}

// rollbackCutShort settles a rollback whose trial boot neither confirmed
// nor failed its health check: the power went, or it hung or panicked,
// before rosd could say. The slot held an image that was healthy on the
// boots before, so it stays good and `ros os rollback` may try it again;
// only a trial found unhealthy (FailTrial) marks a rollback target bad.
func (m *Machine) rollbackCutShort(ctx context.Context, b Boot, f Failure) (Boot, error) {
	err := m.updateEnv(ctx, func(e bootEnv) error {
		return grub.KeepGood(e.Env, f.Slot)
	}, "", nil)
	if err != nil {
		return b, err
	}
	f.Rollback = true
	f.Reason = fmt.Sprintf("slot %s did not confirm its trial boot (power lost, hang or panic); it stays good", f.Slot)
	m.event(ctx, f.Version, "rollback to %s did not complete, back on slot %s (%s): %s", f.Version, m.Booted, m.Version, f.Reason)
	b.FellBack = &f
	return b, nil
}

// lastRecord returns the latest upgrade history entry of f's slot and
// version among the last few.
func (m *Machine) lastRecord(ctx context.Context, f Failure) (state.Upgrade, bool) {
	if m.History == nil {
		return state.Upgrade{}, false
	}
	ups, err := m.History.Upgrades(ctx, 5)
	if err != nil {
		return state.Upgrade{}, false
	}
	for _, u := range ups {
		if u.Version == f.Version && u.Slot == f.Slot {
			return u, true
		}
	}
	return state.Upgrade{}, false
}

// failureReason returns the reason the trial boot itself recorded
// (FailTrial), or records and returns the generic one: the trial never
// got far enough to say.
func (m *Machine) failureReason(ctx context.Context, f Failure) string {
	if u, ok := m.lastRecord(ctx, f); ok && u.Status == StatusFailed && u.Message != "" {
		return u.Message
	}
	reason := fmt.Sprintf("slot %s did not confirm its trial boot: the kernel panicked, init failed, or the machine hung or lost power before the services were healthy", f.Slot)
	m.record(ctx, state.Upgrade{Version: f.Version, Slot: f.Slot, Status: StatusFailed, Message: reason})
	return reason
}

// MarkGood confirms a healthy trial boot: the booted slot becomes the good
// one.
func (m *Machine) MarkGood(ctx context.Context) error {
	var version string
	err := m.updateEnv(ctx, func(e bootEnv) error {
		version = e.slot(m.Booted).Version
		if err := grub.MarkGood(e.Env, m.Booted); err != nil {
			return err
		}
		return grub.SetSlot(e.Env, m.Booted, grub.SlotGood, version)
	}, "", nil)
	if err != nil {
		return err
	}
	m.record(ctx, state.Upgrade{Version: version, Slot: m.Booted, Status: StatusGood})
	m.event(ctx, version, "trial boot of slot %s (%s) is healthy: it is the good slot now", m.Booted, version)
	return nil
}

// FailTrial records why this trial boot is not healthy. The caller then
// reboots; GRUB boots the good slot, where Check finds the reason.
func (m *Machine) FailTrial(ctx context.Context, version, reason string) {
	m.record(ctx, state.Upgrade{Version: version, Slot: m.Booted, Status: StatusFailed, Message: reason})
	m.event(ctx, version, "trial boot of slot %s (%s) failed: %s; rebooting into the good slot", m.Booted, version, reason)
}
