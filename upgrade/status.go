package upgrade

import (
	"context"
	"fmt"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/state"
)

// SlotStatus is one slot as `ros os status` shows it.
type SlotStatus struct {
	Name    string `json:"name"`
	State   string `json:"state"` // good, trying, bad, writing, empty
	Version string `json:"version,omitempty"`
	Booted  bool   `json:"booted"`
	Next    bool   `json:"next"` // the slot the next boot starts
}

// Status is the A/B state of the machine.
type Status struct {
	Version string       `json:"version"`         // running version
	Live    bool         `json:"live"`            // booted from live media: no slots
	Booted  string       `json:"booted"`          // slot of this boot
	Next    string       `json:"next"`            // slot of the next boot
	Trial   bool         `json:"trial,omitempty"` // this boot is an unconfirmed trial
	Slots   []SlotStatus `json:"slots,omitempty"`
}

// Status reads grubenv and describes both slots.
func (m *Machine) Status() (*Status, error) {
	st := &Status{Version: m.Version, Booted: m.Booted}
	if m.Booted == "" || m.Env == nil {
		st.Live = true
		return st, nil
	}
	env, err := m.Env.Load()
	if err != nil {
		return nil, fmt.Errorf("read grubenv: %w", err)
	}
	e := bootEnv{env}
	gs := e.state()
	st.Next = gs.Good
	if gs.Trying() {
		st.Next = gs.Try
	}
	st.Trial = gs.Try == m.Booted && gs.Good != m.Booted
	for _, name := range []string{"A", "B"} {
		si := e.slot(name)
		st.Slots = append(st.Slots, SlotStatus{
			Name: name, State: si.State, Version: si.Version,
			Booted: name == m.Booted, Next: name == st.Next,
		})
	}
	return st, nil
}

// Rollback arms one trial boot of the other slot when it holds a good
// image. The caller reboots.
func (m *Machine) Rollback(ctx context.Context) (string, error) {
	if m.Booted == "" || m.Env == nil {
		return "", ErrLive
	}
	if !m.busy.TryLock() {
		return "", ErrBusy
	}
	defer m.busy.Unlock()
	other := grub.Other(m.Booted)
	var version string
	err := m.updateEnv(ctx, func(e bootEnv) error {
		si := e.slot(other)
		if si.State != grub.SlotGood {
			return fmt.Errorf("%w: slot %s is %s", ErrNoGood, other, si.State)
		}
		version = si.Version
		cmdline, _ := e.Get(grub.CmdlineVar(other))
		return e.arm(other, si.Version, cmdline)
	}, "", nil)
	if err != nil {
		return "", err
	}
	m.record(ctx, state.Upgrade{Version: version, Slot: other, Status: StatusRolledBack})
	m.event(ctx, version, "rollback: slot %s (%s) boots next, on trial", other, version)
	return other, nil
}
