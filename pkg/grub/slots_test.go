package grub

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ros-os/ros/pkg/grubenv"
)

func TestReadSlots(t *testing.T) {
	tests := []struct {
		name   string
		vars   []grubenv.Var
		booted string
		want   []SlotInfo
	}{
		{"defaults", nil, "A", []SlotInfo{
			{Name: "A", State: SlotGood, Booted: true, Next: true},
			{Name: "B", State: SlotEmpty},
		}},
		{"trial of B pending", []grubenv.Var{
			{Name: "ros_good", Value: "A"}, {Name: "ros_try", Value: "B"}, {Name: "ros_tries", Value: "1"},
			{Name: "ros_state_A", Value: "good"}, {Name: "ros_version_A", Value: "v1"}, {Name: "ros_cmdline_A", Value: "console=ttyS0"},
			{Name: "ros_state_B", Value: "trying"}, {Name: "ros_version_B", Value: "v2"},
		}, "A", []SlotInfo{
			{Name: "A", State: SlotGood, Version: "v1", Cmdline: "console=ttyS0", Booted: true},
			{Name: "B", State: SlotTrying, Version: "v2", Next: true},
		}},
		{"trial used up", []grubenv.Var{
			{Name: "ros_good", Value: "A"}, {Name: "ros_try", Value: "B"}, {Name: "ros_tries", Value: "0"},
			{Name: "ros_state_B", Value: "trying"},
		}, "B", []SlotInfo{
			{Name: "A", State: SlotGood, Next: true},
			{Name: "B", State: SlotTrying, Booted: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := grubenv.New(tt.vars...)
			if got := ReadSlots(env, tt.booted); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadSlots(%v, %s) = %+v, want %+v", tt.vars, tt.booted, got, tt.want)
			}
		})
	}
}

func TestSlotTransitions(t *testing.T) {
	env, _ := grubenv.New()
	get := func(name string) string { v, _ := env.Get(name); return v }

	// Upgrade A -> B: writing, then trial, then good.
	if err := BeginWrite(env, "B", "v2"); err != nil {
		t.Fatalf("BeginWrite(B) = %v", err)
	}
	if s := ReadSlot(env, "B"); s.State != SlotWriting || s.Version != "v2" {
		t.Errorf("after BeginWrite: %+v, want writing v2", s)
	}
	if err := TryNext(env, "B", "console=ttyS0", 1); err != nil {
		t.Fatal(err)
	}
	if s := ReadSlot(env, "B"); s.State != SlotTrying || !s.Next || s.Version != "v2" {
		t.Errorf("after TryNext: %+v, want trying, next, v2", s)
	}
	// Writing B again while its trial is pending ends the trial.
	if err := BeginWrite(env, "B", "v3"); err != nil {
		t.Fatal(err)
	}
	if st := ReadState(env); st.Try != "" || st.Tries != 0 || st.Next() != "A" {
		t.Errorf("BeginWrite of the trial slot left the trial: %+v", st)
	}
	if err := TryNext(env, "B", "console=ttyS0", 1); err != nil {
		t.Fatal(err)
	}
	if err := MarkGood(env, "B"); err != nil {
		t.Fatal(err)
	}
	if get("ros_state_B") != SlotGood || get("ros_good") != "B" {
		t.Errorf("after MarkGood(B): state %q good %q", get("ros_state_B"), get("ros_good"))
	}
	// The good slot is never written.
	if err := BeginWrite(env, "B", "v4"); !errors.Is(err, ErrGoodSlot) {
		t.Errorf("BeginWrite(good slot) = %v, want ErrGoodSlot", err)
	}
	// A failed trial of A.
	if err := TryNext(env, "A", "", 1); err != nil {
		t.Fatal(err)
	}
	if err := MarkBad(env, "A"); err != nil {
		t.Fatal(err)
	}
	if s, st := ReadSlot(env, "A"), ReadState(env); s.State != SlotBad || st.Try != "" || st.Good != "B" {
		t.Errorf("after MarkBad(A): %+v %+v, want bad, no trial, good B", s, st)
	}
	// A rollback to A (good again) whose trial was cut short.
	if err := SetSlotState(env, "A", SlotGood); err != nil {
		t.Fatal(err)
	}
	if err := TryNext(env, "A", "", 1); err != nil {
		t.Fatal(err)
	}
	if err := KeepGood(env, "A"); err != nil {
		t.Fatal(err)
	}
	if s, st := ReadSlot(env, "A"), ReadState(env); s.State != SlotGood || st.Try != "" || st.Good != "B" {
		t.Errorf("after KeepGood(A): %+v %+v, want A good, no trial, B still the slot booted", s, st)
	}
	for _, bad := range []func() error{
		func() error { return KeepGood(env, "C") },
		func() error { return SetSlot(env, "C", SlotGood, "") },
		func() error { return SetSlot(env, "A", "fine", "") },
		func() error { return BeginWrite(env, "", "v") },
		func() error { return MarkBad(env, "x") },
	} {
		if err := bad(); err == nil {
			t.Errorf("bad transition returned nil error")
		}
	}
}
