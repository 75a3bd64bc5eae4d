// Package supervisor keeps things running: a Runner runs one instance of a
// process or container task, Supervise restarts it with capped exponential
// backoff, and Reaper routes child exit statuses for a PID 1 or subreaper
// that must also collect orphans.
package supervisor

import "time"

// Backoff is a capped exponential restart delay. The delay is reset to
// Initial when the previous instance stayed up for at least ResetAfter.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Factor     float64
	ResetAfter time.Duration
}

// DefaultBackoff is 1 s doubling up to 30 s, reset after 60 s of uptime.
func DefaultBackoff() Backoff {
	return Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 2, ResetAfter: time.Minute}
}

// Next returns the delay before the next start. prev is the previous delay
// (0 when there was none) and uptime how long the instance that just exited
// stayed up.
func (b Backoff) Next(prev, uptime time.Duration) time.Duration {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Factor < 1 {
		b.Factor = 2
	}
	if prev <= 0 || (b.ResetAfter > 0 && uptime >= b.ResetAfter) {
		return b.Initial
	}
	next := time.Duration(float64(prev) * b.Factor)
	if next > b.Max || next <= 0 {
		return b.Max
	}
	return next
}
