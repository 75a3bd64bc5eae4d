package grub

import (
	"fmt"
	"strconv"

	"github.com/ros-os/ros/pkg/grubenv"
)

// State is the A/B state held in grubenv (see the package comment).
type State struct {
	Good  string // slot known to boot: "A" or "B"
	Try   string // slot on trial, or ""
	Tries int    // trial boots left for Try
}

// Trying reports whether a trial boot of Try is still pending.
func (s State) Trying() bool { return s.Try != "" && s.Tries > 0 }

// TrialFailed reports whether Try used up its tries without being marked
// good (GRUB went back to Good).
func (s State) TrialFailed() bool { return s.Try != "" && s.Try != s.Good && s.Tries == 0 }

// ReadState returns the A/B state in env, reading it as grub.cfg does:
// a missing or unknown ros_good means A, a ros_try other than A or B
// means none.
func ReadState(env *grubenv.Env) State {
	var s State
	s.Good, _ = env.Get(VarGood)
	if s.Good != "B" {
		s.Good = "A"
	}
	if t, _ := env.Get(VarTry); t == "A" || t == "B" {
		s.Try = t
	}
	n, _ := env.Get(VarTries)
	s.Tries, _ = strconv.Atoi(n)
	if s.Tries < 0 || s.Tries > MaxTries {
		s.Tries = 0
	}
	return s
}

// Other returns the slot that is not slot.
func Other(slot string) string {
	if slot == "A" {
		return "B"
	}
	return "A"
}

func checkSlot(slot string) error {
	if slot != "A" && slot != "B" {
		return fmt.Errorf("grub state: bad slot %q, want A or B", slot)
	}
	return nil
}

// TryNext arranges for slot to be booted on trial tries times (1..MaxTries)
// with cmdline as its command line, and sets its state to trying. Write the
// slot first, then env, in one grubenv save.
func TryNext(env *grubenv.Env, slot, cmdline string, tries int) error {
	if err := checkSlot(slot); err != nil {
		return err
	}
	if tries < 1 || tries > MaxTries {
		return fmt.Errorf("grub state: tries %d, want 1..%d", tries, MaxTries)
	}
	for _, v := range []grubenv.Var{
		{Name: CmdlineVar(slot), Value: cmdline},
		{Name: VarTry, Value: slot},
		{Name: VarTries, Value: strconv.Itoa(tries)},
	} {
		if err := env.Set(v.Name, v.Value); err != nil {
			return fmt.Errorf("grub state: %w", err)
		}
	}
	return SetSlotState(env, slot, SlotTrying)
}

// MarkGood makes slot the good slot, sets its state to good and ends any
// trial.
func MarkGood(env *grubenv.Env, slot string) error {
	if err := checkSlot(slot); err != nil {
		return err
	}
	for _, v := range []grubenv.Var{{Name: VarGood, Value: slot}, {Name: VarTry, Value: ""}, {Name: VarTries, Value: "0"}} {
		if err := env.Set(v.Name, v.Value); err != nil {
			return fmt.Errorf("grub state: %w", err)
		}
	}
	return SetSlotState(env, slot, SlotGood)
}
