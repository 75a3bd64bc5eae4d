package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Process runs a program as a Runner. Its stdout and stderr are appended to
// LogPath. With a Reaper it is started and waited through it (PID 1, where a
// reaping loop would otherwise steal the exit status).
type Process struct {
	ID      string
	Path    string
	Args    []string // without argv[0]
	Env     []string // nil: inherit
	LogPath string   // "" discards output
	Reaper  *Reaper
	// StopSignal is sent first when stopping (default SIGTERM); SIGKILL
	// follows after Grace (default 10 s).
	StopSignal syscall.Signal
	Grace      time.Duration
	// OOMScoreAdj, when not 0, is written to the process's oom_score_adj
	// right after it starts (-1000 to 1000; lowering it needs
	// CAP_SYS_RESOURCE). The kernel's OOM killer then picks it later than
	// workloads at the default 0. A failed write goes to Warn, and the
	// process runs on unprotected: better than not at all.
	OOMScoreAdj int
	Warn        func(error) // nil: warnings are dropped
}

// Name implements Runner.
func (p *Process) Name() string { return p.ID }

// Run implements Runner.
func (p *Process) Run(ctx context.Context, started func()) error {
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if p.LogPath != "" {
		if err := os.MkdirAll(filepath.Dir(p.LogPath), 0o755); err != nil {
			return fmt.Errorf("log dir for %s: %w", p.ID, err)
		}
		f, err := os.OpenFile(p.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("open log for %s: %w", p.ID, err)
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	var done <-chan Exit
	if p.Reaper != nil {
		ch, err := p.Reaper.Start(cmd)
		if err != nil {
			return fmt.Errorf("start %s: %w", p.ID, err)
		}
		done = ch
	} else {
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", p.ID, err)
		}
		ch := make(chan Exit, 1)
		go func() {
			err := cmd.Wait()
			if cmd.ProcessState == nil {
				// Someone else reaped the child (a wait4(-1) loop in this
				// process): no status to report, but Run must not hang.
				ch <- Exit{PID: cmd.Process.Pid, WaitErr: err}
				return
			}
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			ch <- Exit{PID: cmd.Process.Pid, Status: ws}
		}()
		done = ch
	}
	if p.OOMScoreAdj != 0 {
		if err := SetOOMScoreAdj(cmd.Process.Pid, p.OOMScoreAdj); err != nil && p.Warn != nil {
			p.Warn(fmt.Errorf("%s: %w", p.ID, err))
		}
	}
	started()
	select {
	case e := <-done:
		return e.Err()
	case <-ctx.Done():
	}
	if errors.Is(context.Cause(ctx), ErrDetach) {
		return nil
	}
	sig := p.StopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	grace := p.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	_ = cmd.Process.Signal(sig)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case e := <-done:
		return e.Err()
	case <-t.C:
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	return (<-done).Err()
}
