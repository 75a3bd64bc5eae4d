package rosd

import (
	"context"
	"strings"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// readiness decides when the services are ready: all of them running at
// the same time, each for at least settle. It holds no clock: callers pass
// the time, so the rules are tested without waiting.
type readiness struct {
	settle time.Duration
	names  []string             // every service, in start order
	since  map[string]time.Time // running services: when their instance started
}

func newReadiness(names []string, settle time.Duration) *readiness {
	return &readiness{settle: settle, names: names, since: map[string]time.Time{}}
}

// set records that name's instance started running at now (running) or is
// no longer running (exited, waiting for a restart, stopped).
func (r *readiness) set(name string, running bool, now time.Time) {
	if !running {
		delete(r.since, name)
		return
	}
	if _, ok := r.since[name]; !ok {
		r.since[name] = now
	}
}

// readyAt returns when the services will be ready if none of them stops
// before, and false while some service is not running.
func (r *readiness) readyAt() (time.Time, bool) {
	var last time.Time
	for _, n := range r.names {
		s, ok := r.since[n]
		if !ok {
			return time.Time{}, false
		}
		if s.After(last) {
			last = s
		}
	}
	return last.Add(r.settle), true
}

// notReady lists, in start order, the services that at now are not running
// or have not been running for settle yet.
func (r *readiness) notReady(now time.Time) []string {
	var out []string
	for _, n := range r.names {
		if s, ok := r.since[n]; !ok || now.Sub(s) < r.settle {
			out = append(out, n)
		}
	}
	return out
}

// readyWatch drives a readiness from supervisor events and the clock, and
// prints the ready line (or, past the deadline, what is missing) once.
type readyWatch struct {
	mu      sync.Mutex
	r       *readiness
	changed chan struct{} // a service changed state (buffered, 1)
}

func newReadyWatch(names []string, settle time.Duration) *readyWatch {
	return &readyWatch{r: newReadiness(names, settle), changed: make(chan struct{}, 1)}
}

// set records a service state change; it never blocks.
func (w *readyWatch) set(name string, running bool) {
	w.mu.Lock()
	w.r.set(name, running, time.Now())
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// run waits until the services are ready and calls ready, or until deadline
// and calls late with the services not ready then (and keeps waiting for
// ready). It returns after ready, or when ctx is done.
func (w *readyWatch) run(ctx context.Context, deadline time.Time, ready func(), late func(names []string)) {
	dl := time.NewTimer(time.Until(deadline))
	defer dl.Stop()
	settle := time.NewTimer(0)
	settle.Stop()
	defer settle.Stop()
	check := func() bool {
		w.mu.Lock()
		at, ok := w.r.readyAt()
		w.mu.Unlock()
		if !ok {
			settle.Stop()
			return false
		}
		if d := time.Until(at); d > 0 {
			settle.Reset(d)
			return false
		}
		return true
	}
	if check() {
		ready()
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.changed:
		case <-settle.C:
		case <-dl.C:
			if ctx.Err() != nil {
				return
			}
			w.mu.Lock()
			missing := w.r.notReady(time.Now())
			w.mu.Unlock()
			if len(missing) > 0 {
				late(missing)
			}
		}
		if ctx.Err() == nil && check() {
			ready()
			return
		}
	}
}

// watchReady prints ReadyLine once the services are ready, or past the
// deadline one line naming those that are not, and tells systemd (when
// rosd runs under it) the same.
func (d *daemon) watchReady(ctx context.Context, w *readyWatch, n int, start time.Time) {
	w.run(ctx, start.Add(d.opts.ReadyDeadline), func() {
		took := time.Since(start).Round(time.Millisecond)
		d.log.Info("services ready", "services", n, "took", took, "settle", d.opts.Settle)
		d.console(ReadyLine)
		d.readyOnce.Do(func() { close(d.ready) })
		_, _ = sd.SdNotify(false, sd.SdNotifyReady)
	}, func(names []string) {
		d.log.Warn("services not ready", "services", names, "deadline", d.opts.ReadyDeadline)
		d.console("%s except %s", ReadyLine, strings.Join(names, ", "))
		_, _ = sd.SdNotify(false, "STATUS=not ready: "+strings.Join(names, ", "))
	})
}

// notReady names the services that are not ready now.
func (d *daemon) notReady() []string {
	w := d.readyW
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.r.notReady(time.Now())
}
