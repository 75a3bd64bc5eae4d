package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrDetach, given as the cancel cause of a Runner's context
// (context.WithCancelCause), asks the Runner to return without stopping what
// it runs: a daemon restarting itself leaves its services running and adopts
// them again on start.
var ErrDetach = errors.New("detach: leave running")

// Runner runs one instance of something.
type Runner interface {
	// Name identifies the instance in events and logs.
	Name() string
	// Run starts one instance and blocks until it exits, returning nil for
	// a clean exit. It calls started once the instance is running. When ctx
	// is done, Run stops the instance (gracefully, then forcefully) and
	// returns once it is gone, unless context.Cause(ctx) is ErrDetach.
	Run(ctx context.Context, started func()) error
}

// State is where a supervised Runner is in its life.
type State int

// States reported in Events.
const (
	StateStarting State = iota
	StateRunning
	StateExited
	StateWaiting
	StateStopped
)

func (s State) String() string {
	switch s {
	case StateStarting:
		return "starting"
	case StateRunning:
		return "running"
	case StateExited:
		return "exited"
	case StateWaiting:
		return "waiting"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Event reports a state change of a supervised Runner.
type Event struct {
	Name     string
	State    State
	Restarts int           // restarts so far
	Delay    time.Duration // StateWaiting: delay before the next start
	Uptime   time.Duration // StateExited: how long the instance ran
	Err      error         // StateExited: why it exited (nil: clean exit)
}

func (e Event) String() string {
	switch e.State {
	case StateExited:
		if e.Err != nil {
			return fmt.Sprintf("%s exited after %s: %v", e.Name, e.Uptime.Round(time.Millisecond), e.Err)
		}
		return fmt.Sprintf("%s exited after %s", e.Name, e.Uptime.Round(time.Millisecond))
	case StateWaiting:
		return fmt.Sprintf("%s restarting in %s (restart %d)", e.Name, e.Delay, e.Restarts)
	}
	return fmt.Sprintf("%s %s", e.Name, e.State)
}

// ExitError is a process or task that exited with a non-zero status or was
// killed by a signal.
type ExitError struct {
	Code   int
	Signal string // signal name when killed by one
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return "killed by signal " + e.Signal
	}
	return fmt.Sprintf("exit status %d", e.Code)
}
