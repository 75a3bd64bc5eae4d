package grub

import (
	"errors"
	"fmt"

	"github.com/ros-os/ros/pkg/grubenv"
)

// Slot states (ros_state_A, ros_state_B).
const (
	SlotGood    = "good"    // holds an image that booted and was marked good
	SlotTrying  = "trying"  // written and verified, on trial (ros_try)
	SlotBad     = "bad"     // its trial failed; never booted as a fallback
	SlotWriting = "writing" // being written; never booted as a fallback
	SlotEmpty   = "empty"   // holds nothing; never booted as a fallback
)

// Per-slot variable prefixes (+ slot name).
const (
	VarState   = "ros_state_"
	VarVersion = "ros_version_"
)

// ErrGoodSlot is returned when a transition would overwrite the good slot.
var ErrGoodSlot = errors.New("slot is the good slot")

// StateVar returns the grubenv variable holding slot's state.
func StateVar(slot string) string { return VarState + slot }

// VersionVar returns the grubenv variable holding slot's version.
func VersionVar(slot string) string { return VarVersion + slot }

// DefaultState is a slot's state when grubenv does not say: slot A holds
// the image a disk was made with, slot B nothing.
func DefaultState(slot string) string {
	if slot == "A" {
		return SlotGood
	}
	return SlotEmpty
}

// Bootable reports whether grub.cfg would boot a slot in state as a
// fallback (anything but writing, bad or empty).
func Bootable(state string) bool {
	return state != SlotWriting && state != SlotBad && state != SlotEmpty
}

func checkState(state string) error {
	switch state {
	case SlotGood, SlotTrying, SlotBad, SlotWriting, SlotEmpty:
		return nil
	}
	return fmt.Errorf("grub state: bad slot state %q", state)
}

// SlotInfo is one slot as grubenv describes it.
type SlotInfo struct {
	Name    string `json:"name"`    // "A" or "B"
	State   string `json:"state"`   // SlotGood, SlotTrying, SlotBad, SlotWriting or SlotEmpty
	Version string `json:"version"` // ros_version_X, "" if unknown
	Cmdline string `json:"cmdline"` // ros_cmdline_X
	Booted  bool   `json:"booted"`  // the running system booted from it
	Next    bool   `json:"next"`    // GRUB boots it next (trial or good)
}

// Next returns the slot GRUB boots next: the trial slot while tries are
// left, else the good slot.
func (s State) Next() string {
	if s.Trying() {
		return s.Try
	}
	return s.Good
}

// ReadSlot returns slot's SlotInfo, with Booted false.
func ReadSlot(env *grubenv.Env, slot string) SlotInfo {
	info := SlotInfo{Name: slot, Next: ReadState(env).Next() == slot}
	info.State, _ = env.Get(StateVar(slot))
	if info.State == "" {
		info.State = DefaultState(slot)
	}
	info.Version, _ = env.Get(VersionVar(slot))
	info.Cmdline, _ = env.Get(CmdlineVar(slot))
	return info
}

// ReadSlots returns slots A and B. booted is the slot the running system
// came from (ros.slot= on its command line), "" if none.
func ReadSlots(env *grubenv.Env, booted string) []SlotInfo {
	var slots []SlotInfo
	for _, name := range []string{"A", "B"} {
		info := ReadSlot(env, name)
		info.Booted = name == booted
		slots = append(slots, info)
	}
	return slots
}

// SetSlot sets slot's state and version.
func SetSlot(env *grubenv.Env, slot, state, version string) error {
	if err := checkSlot(slot); err != nil {
		return err
	}
	if err := checkState(state); err != nil {
		return err
	}
	if err := env.Set(StateVar(slot), state); err != nil {
		return fmt.Errorf("grub state: %w", err)
	}
	if err := env.Set(VersionVar(slot), version); err != nil {
		return fmt.Errorf("grub state: %w", err)
	}
	return nil
}

// SetSlotState sets slot's state, keeping its version.
func SetSlotState(env *grubenv.Env, slot, state string) error {
	v, _ := env.Get(VersionVar(slot))
	return SetSlot(env, slot, state, v)
}

// BeginWrite marks slot as being written with version: state writing, and
// any pending trial of slot ended, so that neither a trial nor a fallback
// boots a half-written slot. It refuses the good slot. Save env (both
// copies) before the first byte of the slot is written.
func BeginWrite(env *grubenv.Env, slot, version string) error {
	if err := checkSlot(slot); err != nil {
		return err
	}
	s := ReadState(env)
	if s.Good == slot {
		return fmt.Errorf("grub state: cannot write slot %s: %w", slot, ErrGoodSlot)
	}
	if s.Try == slot {
		if err := endTrial(env); err != nil {
			return err
		}
	}
	return SetSlot(env, slot, SlotWriting, version)
}

// MarkBad records that slot failed its trial: state bad and no trial left.
func MarkBad(env *grubenv.Env, slot string) error {
	return endTrialAs(env, slot, SlotBad)
}

// KeepGood ends an unconfirmed trial of slot and leaves the slot good: for
// a rollback target, proven by the boots before, whose trial boot was cut
// short (power lost) rather than found unhealthy.
func KeepGood(env *grubenv.Env, slot string) error {
	return endTrialAs(env, slot, SlotGood)
}

// endTrialAs ends any trial of slot and sets its state.
func endTrialAs(env *grubenv.Env, slot, state string) error {
	if err := checkSlot(slot); err != nil {
		return err
	}
	if ReadState(env).Try == slot {
		if err := endTrial(env); err != nil {
			return err
		}
	}
	return SetSlotState(env, slot, state)
}

func endTrial(env *grubenv.Env) error {
	for _, v := range []grubenv.Var{{Name: VarTry, Value: ""}, {Name: VarTries, Value: "0"}} {
		if err := env.Set(v.Name, v.Value); err != nil {
			return fmt.Errorf("grub state: %w", err)
		}
	}
	return nil
}
