package grub

import (
	"testing"

	"github.com/ros-os/ros/pkg/grubenv"
)

func TestReadState(t *testing.T) {
	tests := []struct {
		vars []grubenv.Var
		want State
	}{
		{nil, State{Good: "A"}},
		{[]grubenv.Var{{Name: "ros_good", Value: "B"}}, State{Good: "B"}},
		{[]grubenv.Var{{Name: "ros_good", Value: "x"}, {Name: "ros_try", Value: "C"}, {Name: "ros_tries", Value: "2"}}, State{Good: "A", Tries: 2}},
		{[]grubenv.Var{{Name: "ros_good", Value: "A"}, {Name: "ros_try", Value: "B"}, {Name: "ros_tries", Value: "1"}}, State{Good: "A", Try: "B", Tries: 1}},
		{[]grubenv.Var{{Name: "ros_try", Value: "B"}, {Name: "ros_tries", Value: "9"}}, State{Good: "A", Try: "B"}},
	}
	for _, tt := range tests {
		env, _ := grubenv.New(tt.vars...)
		if got := ReadState(env); got != tt.want {
			t.Errorf("ReadState(%v) = %+v, want %+v", tt.vars, got, tt.want)
		}
	}
}

func TestTransitions(t *testing.T) {
	env, _ := grubenv.New()
	if err := TryNext(env, "B", "console=ttyS0", 1); err != nil {
		t.Fatalf("TryNext() = %v", err)
	}
	s := ReadState(env)
	if !s.Trying() || s.Try != "B" || s.Good != "A" {
		t.Errorf("after TryNext: %+v, want trying B from good A", s)
	}
	if v, _ := env.Get(CmdlineVar("B")); v != "console=ttyS0" {
		t.Errorf("ros_cmdline_B = %q", v)
	}
	// GRUB used the try up: ros_tries=0, nobody marked B good.
	if err := env.Set(VarTries, "0"); err != nil {
		t.Fatal(err)
	}
	if s := ReadState(env); !s.TrialFailed() || s.Trying() {
		t.Errorf("after the try was used up: %+v, want TrialFailed", s)
	}
	if err := MarkGood(env, "B"); err != nil {
		t.Fatalf("MarkGood() = %v", err)
	}
	if s := ReadState(env); s != (State{Good: "B"}) || s.TrialFailed() {
		t.Errorf("after MarkGood(B): %+v, want good B, no trial", s)
	}
	for _, bad := range []func() error{
		func() error { return TryNext(env, "C", "", 1) },
		func() error { return TryNext(env, "A", "", 0) },
		func() error { return TryNext(env, "A", "", MaxTries+1) },
		func() error { return MarkGood(env, "") },
	} {
		if err := bad(); err == nil {
			t.Errorf("bad transition returned nil error")
		}
	}
	if Other("A") != "B" || Other("B") != "A" {
		t.Errorf("Other is wrong")
	}
}
