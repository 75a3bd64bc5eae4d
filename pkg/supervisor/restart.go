package supervisor

import (
	"context"
	"time"
)

// Policy says how Supervise restarts a Runner.
type Policy struct {
	Backoff Backoff
	// OnEvent receives every state change; nil discards them.
	OnEvent func(Event)
	// Now and Sleep replace the clock in tests; nil uses the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p Policy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (p Policy) emit(e Event) {
	if p.OnEvent != nil {
		p.OnEvent(e)
	}
}

// Supervise runs r until ctx is done, restarting it with backoff each time
// it exits, whatever its exit status. It returns nil once ctx is done and the
// last instance has been stopped (or detached, see ErrDetach).
func Supervise(ctx context.Context, r Runner, p Policy) error {
	var delay time.Duration
	restarts := 0
	for {
		p.emit(Event{Name: r.Name(), State: StateStarting, Restarts: restarts})
		var startedAt time.Time
		err := r.Run(ctx, func() {
			startedAt = p.now()
			p.emit(Event{Name: r.Name(), State: StateRunning, Restarts: restarts})
		})
		if ctx.Err() != nil {
			p.emit(Event{Name: r.Name(), State: StateStopped, Restarts: restarts, Err: err})
			return nil
		}
		var uptime time.Duration
		if !startedAt.IsZero() {
			uptime = p.now().Sub(startedAt)
		}
		p.emit(Event{Name: r.Name(), State: StateExited, Restarts: restarts, Uptime: uptime, Err: err})
		delay = p.Backoff.Next(delay, uptime)
		restarts++
		p.emit(Event{Name: r.Name(), State: StateWaiting, Restarts: restarts, Delay: delay})
		if err := p.sleep(ctx, delay); err != nil {
			p.emit(Event{Name: r.Name(), State: StateStopped, Restarts: restarts})
			return nil
		}
	}
}
