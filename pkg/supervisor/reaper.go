package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrNotFile is returned by Reaper.Start for a command whose stdio is not an
// *os.File: os/exec would copy such streams in goroutines that only
// cmd.Wait ends, and a reaped command is never waited by os/exec.
var ErrNotFile = errors.New("stdio must be nil or an *os.File")

// Exit is the wait status of a child process.
type Exit struct {
	PID    int
	Status syscall.WaitStatus
	// WaitErr is set when the status could not be collected (another
	// reaper in this process took it: ECHILD); Status is then meaningless.
	WaitErr error
}

// Err is nil for a clean exit, an *ExitError otherwise, or WaitErr.
func (e Exit) Err() error {
	switch {
	case e.WaitErr != nil:
		return fmt.Errorf("wait for pid %d: %w", e.PID, e.WaitErr)
	case e.Status.Signaled():
		return &ExitError{Code: 128 + int(e.Status.Signal()), Signal: unix.SignalName(e.Status.Signal())}
	case e.Status.ExitStatus() != 0:
		return &ExitError{Code: e.Status.ExitStatus()}
	}
	return nil
}

// Reaper collects every exited child of this process (PID 1 or a child
// subreaper) with wait4(-1) and routes the status of children somebody waits
// for, so that reaping orphans never steals an exit status. Children started
// through Start or registered with Watch are routed; the rest are orphans.
type Reaper struct {
	mu      sync.Mutex
	waiting map[int]chan Exit
	recent  []Exit // last orphans, so a late Watch still gets its status
}

const recentOrphans = 128

// NewReaper returns a Reaper; call Loop (or Reap on SIGCHLD) to make it work.
func NewReaper() *Reaper {
	return &Reaper{waiting: map[int]chan Exit{}}
}

// Start starts cmd and returns a channel that receives its exit status. The
// pid is registered before any reaping can see it exit. cmd's stdio must be
// nil or *os.File (ErrNotFile otherwise); do not call cmd.Wait.
func (r *Reaper) Start(cmd *exec.Cmd) (<-chan Exit, error) {
	for _, s := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		switch s.(type) {
		case nil, *os.File:
		default:
			return nil, fmt.Errorf("start %s: %w", cmd.Path, ErrNotFile)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := make(chan Exit, 1)
	r.waiting[cmd.Process.Pid] = ch
	p := cmd.Process
	out := make(chan Exit, 1)
	go func() {
		e := <-ch
		_ = p.Release()
		out <- e
	}()
	return out, nil
}

// Run starts cmd and waits for it (or ctx: then it is killed and waited).
func (r *Reaper) Run(ctx context.Context, cmd *exec.Cmd) error {
	ch, err := r.Start(cmd)
	if err != nil {
		return err
	}
	select {
	case e := <-ch:
		return e.Err()
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-ch
		return ctx.Err()
	}
}

// Watch returns a channel that receives the exit status of pid, a process
// that is or will become a child of this process (a container process
// reparented to this subreaper, say). Register it before it can exit.
func (r *Reaper) Watch(pid int) <-chan Exit {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan Exit, 1)
	for i, e := range r.recent {
		if e.PID == pid {
			r.recent = append(r.recent[:i], r.recent[i+1:]...)
			ch <- e
			return ch
		}
	}
	r.waiting[pid] = ch
	return ch
}

// Forget drops a Watch registration nobody will read any more.
func (r *Reaper) Forget(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.waiting, pid)
}

// Reap collects every exited child without blocking, routes the watched ones
// and returns the orphans.
func (r *Reaper) Reap() []Exit {
	r.mu.Lock()
	defer r.mu.Unlock()
	var orphans []Exit
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return orphans
		}
		e := Exit{PID: pid, Status: ws}
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- e
			continue
		}
		orphans = append(orphans, e)
		r.recent = append(r.recent, e)
		if len(r.recent) > recentOrphans {
			r.recent = r.recent[len(r.recent)-recentOrphans:]
		}
	}
}

// Loop reaps on every SIGCHLD until ctx is done, passing orphans to orphan
// (which may be nil).
func (r *Reaper) Loop(ctx context.Context, orphan func(Exit)) {
	sig := make(chan os.Signal, 16)
	signal.Notify(sig, syscall.SIGCHLD)
	defer signal.Stop(sig)
	for {
		for _, e := range r.Reap() {
			if orphan != nil {
				orphan(e)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-sig:
		}
	}
}

// SetSubreaper makes this process the reaper of its orphaned descendants
// (prctl PR_SET_CHILD_SUBREAPER); PID 1 is one already.
func SetSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", err)
	}
	return nil
}
