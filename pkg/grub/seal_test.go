package grub

import (
	"errors"
	"testing"

	"github.com/ros-os/ros/pkg/grubenv"
)

func TestSeal(t *testing.T) {
	env, _ := grubenv.New(
		grubenv.Var{Name: VarGood, Value: "A"},
		grubenv.Var{Name: VarTry, Value: "B"},
		grubenv.Var{Name: VarTries, Value: "1"},
		grubenv.Var{Name: CmdlineVar("B"), Value: "console=ttyS0"},
	)
	if err := CheckSeal(env); !errors.Is(err, ErrSeal) {
		t.Errorf("CheckSeal(unsealed) = %v, want ErrSeal", err)
	}
	if !SealsAgree(env) {
		t.Errorf("SealsAgree(unsealed) = false, want true (both missing, as GRUB sees it)")
	}
	if err := Seal(env); err != nil {
		t.Fatal(err)
	}
	vars := env.Vars()
	if vars[0].Name != VarSum || vars[len(vars)-1].Name != VarSumEnd {
		t.Errorf("Seal() order = %v, want %s first and %s last", vars, VarSum, VarSumEnd)
	}
	if err := CheckSeal(env); err != nil {
		t.Errorf("CheckSeal(sealed) = %v", err)
	}
	// GRUB decrements ros_tries in place: the seal still holds.
	if err := env.Set(VarTries, "0"); err != nil {
		t.Fatal(err)
	}
	if err := CheckSeal(env); err != nil {
		t.Errorf("CheckSeal after GRUB's ros_tries save = %v, want nil", err)
	}
	// Resealing a sealed block keeps one of each and the same places.
	if err := Seal(env); err != nil {
		t.Fatal(err)
	}
	if n := len(env.Vars()); n != len(vars) {
		t.Errorf("Seal() twice: %d vars, want %d", n, len(vars))
	}
	for _, tt := range []struct {
		name   string
		change func(*grubenv.Env)
	}{
		{"value changed", func(e *grubenv.Env) { _ = e.Set(VarTry, "A") }},
		{"var added", func(e *grubenv.Env) { _ = e.Set(StateVar("B"), SlotTrying) }},
		{"end differs", func(e *grubenv.Env) { _ = e.Set(VarSumEnd, "00000000") }},
		{"end missing", func(e *grubenv.Env) { e.Unset(VarSumEnd) }},
	} {
		e, _ := grubenv.New(env.Vars()...)
		tt.change(e)
		if err := CheckSeal(e); !errors.Is(err, ErrSeal) {
			t.Errorf("%s: CheckSeal() = %v, want ErrSeal", tt.name, err)
		}
	}
}
