// Package rosinit is stage 2 of ros init: PID 1 after switch_root. Boot and
// shutdown are declarative lists of named phases, each logged on the console
// with its duration; between them PID 1 keeps containerd and the ros daemon
// running, reaps orphans, and waits for a signal saying how to go down.
//
// The directory is os/init; the package is rosinit because a package named
// init cannot be imported.
package rosinit

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Prefix starts every console line of stage 2.
const Prefix = "ros init: "

// Phase is one named step of boot or shutdown.
type Phase struct {
	Name string
	Run  func(ctx context.Context) error
}

// PhaseResult is how a phase went.
type PhaseResult struct {
	Name string
	Took time.Duration
	Err  error
}

// RunPhases runs phases in order, logging each with its duration to w. A
// failing phase is logged and the next one runs anyway: PID 1 has no one to
// hand the failure to, and a half-booted machine is easier to debug (and to
// shut down) than a dead one. now is the clock (nil: time.Now).
func RunPhases(ctx context.Context, w io.Writer, now func() time.Time, phases []Phase) []PhaseResult {
	if now == nil {
		now = time.Now
	}
	results := make([]PhaseResult, 0, len(phases))
	for _, p := range phases {
		start := now()
		err := p.Run(ctx)
		took := now().Sub(start)
		results = append(results, PhaseResult{Name: p.Name, Took: took, Err: err})
		if err != nil {
			fmt.Fprintf(w, "%sphase %s FAILED after %s: %v\n", Prefix, p.Name, ms(took), err)
			continue
		}
		fmt.Fprintf(w, "%sphase %s done in %s\n", Prefix, p.Name, ms(took))
	}
	return results
}

// ms formats d as whole milliseconds ("12ms").
func ms(d time.Duration) string {
	return fmt.Sprintf("%dms", d.Milliseconds())
}
