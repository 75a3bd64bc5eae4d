package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ros-os/ros/pkg/supervisor"
)

// ErrNeedsReaper is returned for a bundle whose runtime.json needs the
// container's pid before it runs (interfaces, bindNS) when Runc has no
// Reaper: such a container is created detached and reparented to us.
var ErrNeedsReaper = errors.New("runtime interfaces/bindNS need a subreaper with a Reaper")

// Runc runs one-shot bundles (onboot, onshutdown) to completion with runc.
type Runc struct {
	Binary string // runc binary (default /usr/bin/runc)
	Root   string // runc state root (default /run/runc)
	// Tree is where runtime.json's absolute paths point ("/" on a device).
	Tree string
	// Reaper starts and waits runc; with it the caller must be PID 1 or a
	// subreaper running Reaper.Loop. Without it runc is waited by os/exec.
	Reaper *supervisor.Reaper
}

func (r *Runc) binary() string {
	if r.Binary != "" {
		return r.Binary
	}
	return "/usr/bin/runc"
}

func (r *Runc) root() string {
	if r.Root != "" {
		return r.Root
	}
	return "/run/runc"
}

func (r *Runc) tree() string {
	if r.Tree != "" {
		return r.Tree
	}
	return "/"
}

func (r *Runc) command(out *os.File, args ...string) *exec.Cmd {
	cmd := exec.Command(r.binary(), append([]string{"--root", r.root()}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

func (r *Runc) exec(ctx context.Context, cmd *exec.Cmd) error {
	if r.Reaper != nil {
		return r.Reaper.Run(ctx, cmd)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
				return supervisor.Exit{PID: cmd.Process.Pid, Status: ws}.Err()
			}
		}
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

// Run prepares b as its runtime.json asks, runs it to completion with its
// output (and runc's) appended to out, and cleans up its private mounts. A
// non-zero exit is a *supervisor.ExitError.
func (r *Runc) Run(ctx context.Context, b Bundle, out *os.File) error {
	rt, err := ReadRuntime(b.Path)
	if err != nil {
		return err
	}
	steps := PlanPrepare(r.tree(), b.Path, rt, HasLower(b.Path))
	defer Cleanup(b.Path, steps)
	if err := Apply(steps); err != nil {
		return fmt.Errorf("prepare %s: %w", b.Name, err)
	}
	// A container of this name left by an interrupted run would make runc
	// refuse the new one.
	_ = r.exec(ctx, r.command(out, "delete", "--force", b.ID()))
	if !rt.NeedsProcess() {
		if err := r.exec(ctx, r.command(out, "run", "--bundle", b.Path, b.ID())); err != nil {
			return fmt.Errorf("runc run %s: %w", b.Name, err)
		}
		return nil
	}
	if r.Reaper == nil {
		return fmt.Errorf("run %s: %w", b.Name, ErrNeedsReaper)
	}
	defer func() { _ = r.exec(context.WithoutCancel(ctx), r.command(out, "delete", "--force", b.ID())) }()
	pidFile := filepath.Join(os.TempDir(), "ros-runc-"+b.ID()+".pid")
	defer os.Remove(pidFile)
	if err := r.exec(ctx, r.command(out, "create", "--bundle", b.Path, "--pid-file", pidFile, b.ID())); err != nil {
		return fmt.Errorf("runc create %s: %w", b.Name, err)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("runc create %s: %w", b.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("runc create %s: pid file %q: %w", b.Name, raw, err)
	}
	exited := r.Reaper.Watch(pid)
	if err := PrepareProcess(r.tree(), pid, rt); err != nil {
		fmt.Fprintf(out, "ros: prepare %s (continuing): %v\n", b.Name, err)
	}
	if err := r.exec(ctx, r.command(out, "start", b.ID())); err != nil {
		r.Reaper.Forget(pid)
		return fmt.Errorf("runc start %s: %w", b.Name, err)
	}
	select {
	case e := <-exited:
		if err := e.Err(); err != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
		return nil
	case <-ctx.Done():
		_ = r.exec(context.WithoutCancel(ctx), r.command(out, "kill", b.ID(), "KILL"))
		<-exited
		return ctx.Err()
	}
}
