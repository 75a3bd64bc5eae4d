package supervisor

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// fakeRunner exits after the uptimes it is given, one per run, with a
// fake clock advanced by each run's uptime.
type fakeRunner struct {
	clock   *time.Time
	uptimes []time.Duration
	runs    int
	cancel  context.CancelFunc // called when uptimes run out
}

func (f *fakeRunner) Name() string { return "fake" }

func (f *fakeRunner) Run(ctx context.Context, started func()) error {
	if f.runs >= len(f.uptimes) {
		f.cancel()
		<-ctx.Done()
		return nil
	}
	started()
	*f.clock = f.clock.Add(f.uptimes[f.runs])
	f.runs++
	return errors.New("boom")
}

func TestSuperviseBackoffSequence(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := time.Unix(0, 0)
	s := time.Second
	r := &fakeRunner{clock: &clock, cancel: cancel,
		uptimes: []time.Duration{0, 0, 0, 0, 0, 0, 0, 61 * s, 0}}
	var delays []time.Duration
	var states []State
	p := Policy{
		Backoff: DefaultBackoff(),
		Now:     func() time.Time { return clock },
		Sleep: func(ctx context.Context, d time.Duration) error {
			delays = append(delays, d)
			clock = clock.Add(d)
			return nil
		},
		OnEvent: func(e Event) { states = append(states, e.State) },
	}
	if err := Supervise(ctx, r, p); err != nil {
		t.Fatalf("Supervise() = %v, want nil", err)
	}
	want := []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, s, 2 * s}
	if !reflect.DeepEqual(delays, want) {
		t.Errorf("restart delays = %v, want %v", delays, want)
	}
	if got := states[:4]; !reflect.DeepEqual(got, []State{StateStarting, StateRunning, StateExited, StateWaiting}) {
		t.Errorf("first states = %v, want starting running exited waiting", got)
	}
	if last := states[len(states)-1]; last != StateStopped {
		t.Errorf("last state = %v, want stopped", last)
	}
}

func TestSuperviseStopsDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := time.Unix(0, 0)
	r := &fakeRunner{clock: &clock, cancel: cancel, uptimes: []time.Duration{0, 0, 0, 0}}
	p := Policy{Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	if err := Supervise(ctx, r, p); err != nil {
		t.Fatalf("Supervise() = %v, want nil", err)
	}
	if r.runs != 1 {
		t.Errorf("runs = %d, want 1 (cancelled during the first backoff)", r.runs)
	}
}
