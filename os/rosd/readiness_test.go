package rosd

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// step is one service state change at a time offset (ms), or, with name
// "", a check at that time.
type step struct {
	at      int
	name    string
	running bool
}

func TestReadiness(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	const settle = 1000 * time.Millisecond
	tests := []struct {
		name      string
		steps     []step
		wantReady int // readyAt offset in ms; -1: not all running
		now       int // notReady is asked at this offset
		wantLate  []string
	}{
		{"none running", nil, -1, 5000, []string{"a", "b"}},
		{"one running", []step{{0, "a", true}}, -1, 5000, []string{"b"}},
		{"both: settle from the last start", []step{{0, "a", true}, {300, "b", true}}, 1300, 1000, []string{"b"}},
		{"both settled", []step{{0, "a", true}, {300, "b", true}}, 1300, 1300, nil},
		{"a repeated running event keeps the start", []step{{0, "a", true}, {300, "b", true}, {900, "b", true}}, 1300, 1300, nil},
		{"crash loop: b exits after it ran", []step{{0, "a", true}, {100, "b", true}, {200, "b", false}}, -1, 5000, []string{"b"}},
		{"crash loop: b restarts, settle starts over", []step{{0, "a", true}, {100, "b", true}, {200, "b", false}, {2000, "b", true}}, 3000, 2500, []string{"b"}},
		{"a stopped after both ran", []step{{0, "a", true}, {0, "b", true}, {5000, "a", false}}, -1, 6000, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReadiness([]string{"a", "b"}, settle)
			for _, s := range tt.steps {
				r.set(s.name, s.running, ms(s.at))
			}
			at, ok := r.readyAt()
			if tt.wantReady < 0 {
				if ok {
					t.Errorf("readyAt() = %v, true, want false", at.Sub(t0))
				}
			} else if !ok || !at.Equal(ms(tt.wantReady)) {
				t.Errorf("readyAt() = %v, %v, want %dms, true", at.Sub(t0), ok, tt.wantReady)
			}
			if got := r.notReady(ms(tt.now)); !reflect.DeepEqual(got, tt.wantLate) {
				t.Errorf("notReady(%dms) = %q, want %q", tt.now, got, tt.wantLate)
			}
		})
	}
}

func TestReadinessNoServices(t *testing.T) {
	r := newReadiness(nil, time.Second)
	if _, ok := r.readyAt(); !ok {
		t.Error("readyAt() with no services = false, want true")
	}
}

// TestReadyWatch drives the watch with a real clock (a short settle); it
// checks what is reported and in which order, never how fast.
func TestReadyWatch(t *testing.T) {
	const settle = 20 * time.Millisecond
	w := newReadyWatch([]string{"a", "b", "c"}, settle)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	events := make(chan string, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The deadline has passed: the late line comes first.
		w.run(ctx, time.Now(), func() { events <- "ready" }, func(names []string) {
			events <- "late " + strings.Join(names, " ")
		})
	}()
	w.set("a", true)
	w.set("c", true)
	if got := <-events; !strings.HasPrefix(got, "late ") || !strings.Contains(got, "b") {
		t.Fatalf("first event = %q, want a late line naming b", got)
	}
	// b starts and crashes at once, several times: never ready.
	for range 3 {
		w.set("b", true)
		w.set("b", false)
	}
	select {
	case e := <-events:
		t.Fatalf("event %q while b crash-loops, want none", e)
	case <-time.After(10 * settle):
	}
	w.set("b", true)
	select {
	case got := <-events:
		if got != "ready" {
			t.Errorf("event after b stays up = %q, want ready", got)
		}
	case <-ctx.Done():
		t.Fatal("no ready once every service stayed up")
	}
	<-done // run returns after ready
}

func TestReadyWatchNoServices(t *testing.T) {
	w := newReadyWatch(nil, time.Hour)
	fired := false
	w.run(t.Context(), time.Now().Add(time.Hour), func() { fired = true }, func([]string) { t.Error("late called") })
	if !fired {
		t.Error("run() with no services returned without ready")
	}
}
