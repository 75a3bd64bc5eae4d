// Package tasks runs a container bundle (see package containers) as a
// containerd task in the system services' namespace: created or adopted
// from what containerd already holds, prepared, waited for and stopped.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/ocispec"
	"github.com/ros-os/ros/pkg/supervisor"
)

// DefaultNamespace is the containerd namespace of ros system services.
const DefaultNamespace = "services.ros"

// Adoption says what to do with what containerd already holds for a
// service when its runner starts.
type Adoption int

// Adoption outcomes of Reconcile.
const (
	// Create: nothing usable exists; prepare and create container and task.
	Create Adoption = iota
	// Adopt: a live task exists; wait for it instead of starting another.
	Adopt
	// Replace: a stale container (dead task, or one from an earlier boot,
	// whose spec may be outdated) exists; delete it, then create.
	Replace
)

// Reconcile decides what a service runner's first run does given whether
// containerd has its container and the status of its task ("" if none).
func Reconcile(hasContainer bool, taskStatus containerd.ProcessStatus) Adoption {
	switch {
	case !hasContainer:
		return Create
	case taskStatus == containerd.Running || taskStatus == containerd.Paused || taskStatus == containerd.Pausing:
		return Adopt
	default:
		return Replace
	}
}

// Task runs a service bundle as a containerd task, without a snapshot: the
// bundle's config.json as is, its root pointing at the bundle's rootfs. It is
// a supervisor.Runner: each Run is one task; the first Run adopts a task left
// running by an earlier daemon.
type Task struct {
	Client    *containerd.Client
	Namespace string // default DefaultNamespace (runtime.json may override)
	Bundle    containers.Bundle
	Tree      string        // where runtime.json absolute paths point ("/")
	LogPath   string        // stdout+stderr of the task
	Grace     time.Duration // SIGTERM to SIGKILL when stopping (default 10 s)
	Log       *slog.Logger  // warnings; nil discards
	// Spec, if set, adjusts the bundle's spec before the container is
	// created (the daemon adds its notify socket).
	Spec func(*specs.Spec) error
	// Runtime is the OCI runtime binary the shim drives ("": runc). See
	// DefaultRuntime and RuntimeBinary.
	Runtime string

	ran       bool
	container containerd.Container
	runtime   *containers.Runtime
}

// Name implements supervisor.Runner.
func (t *Task) Name() string { return t.Bundle.Name }

func (t *Task) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (t *Task) ns() string {
	if t.runtime != nil && t.runtime.Namespace != "" {
		return t.runtime.Namespace
	}
	if t.Namespace != "" {
		return t.Namespace
	}
	return DefaultNamespace
}

// Run implements supervisor.Runner.
func (t *Task) Run(ctx context.Context, started func()) error {
	if t.runtime == nil {
		rt, err := containers.ReadRuntime(t.Bundle.Path)
		if err != nil {
			return err
		}
		t.runtime = &rt
	}
	ctx = namespaces.WithNamespace(ctx, t.ns())
	first := !t.ran
	t.ran = true
	if first || t.container == nil {
		task, err := t.reconcile(ctx)
		if err != nil {
			return err
		}
		if task != nil {
			t.log().Info("adopted running task", "service", t.Name(), "pid", task.Pid())
			return t.wait(ctx, task, func() error { started(); return nil })
		}
	}
	if t.container == nil {
		if err := t.create(ctx); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(t.LogPath), 0o755); err != nil {
		return fmt.Errorf("log dir of %s: %w", t.Name(), err)
	}
	task, err := t.container.NewTask(ctx, cio.LogFile(t.LogPath))
	if err != nil {
		// The container was removed behind our back, or a stale task is in
		// the way: reconcile again on the next run.
		t.container = nil
		return fmt.Errorf("create task %s: %w", t.Name(), err)
	}
	if err := containers.PrepareProcess(t.Tree, int(task.Pid()), *t.runtime); err != nil {
		t.log().Warn("prepare process (continuing)", "service", t.Name(), "err", err)
	}
	return t.wait(ctx, task, func() error {
		if err := task.Start(ctx); err != nil {
			return fmt.Errorf("start task %s: %w", t.Name(), err)
		}
		started()
		return nil
	})
}

// reconcile adopts a live task (returned) or clears stale state.
func (t *Task) reconcile(ctx context.Context) (containerd.Task, error) {
	c, err := t.Client.LoadContainer(ctx, t.Name())
	if err != nil && !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("load container %s: %w", t.Name(), err)
	}
	var task containerd.Task
	var status containerd.ProcessStatus
	if c != nil {
		task, err = c.Task(ctx, nil)
		switch {
		case err == nil:
			st, err := task.Status(ctx)
			if err != nil {
				return nil, fmt.Errorf("status of %s: %w", t.Name(), err)
			}
			status = st.Status
		case !errdefs.IsNotFound(err):
			return nil, fmt.Errorf("load task %s: %w", t.Name(), err)
		}
	}
	switch Reconcile(c != nil, status) {
	case Adopt:
		t.container = c
		return task, nil
	case Replace:
		if task != nil {
			if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
				return nil, fmt.Errorf("delete stale task %s: %w", t.Name(), err)
			}
		}
		if err := c.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("delete stale container %s: %w", t.Name(), err)
		}
	}
	t.container = nil
	return nil, nil
}

func (t *Task) create(ctx context.Context) error {
	steps := containers.PlanPrepare(t.Tree, t.Bundle.Path, *t.runtime, containers.HasLower(t.Bundle.Path))
	if err := containers.Apply(steps); err != nil {
		return fmt.Errorf("prepare %s: %w", t.Name(), err)
	}
	spec, err := containers.ReadSpec(t.Bundle.Path)
	if err != nil {
		return err
	}
	if t.Spec != nil {
		if err := t.Spec(spec); err != nil {
			return fmt.Errorf("spec of %s: %w", t.Name(), err)
		}
	}
	withShimGroup(spec, ShimGroup)
	// Bundles written by earlier releases say 1.2.1, which Debian 12's
	// crun refuses; nothing ros writes is newer than ocispec.SpecVersion.
	spec.Version = ocispec.SpecVersion
	opts := []containerd.NewContainerOpts{
		containerd.WithSpec(spec),
		containerd.WithContainerLabels(map[string]string{"org.ros.bundle": t.Bundle.Path}),
	}
	if t.Runtime != "" {
		opts = append(opts, withRuntime(t.Runtime))
	}
	c, err := t.Client.NewContainer(ctx, t.Name(), opts...)
	if err != nil {
		return fmt.Errorf("create container %s: %w", t.Name(), err)
	}
	t.container = c
	return nil
}

// wait subscribes to the task's exit, runs start, then waits for the task to
// exit or ctx to end.
func (t *Task) wait(ctx context.Context, task containerd.Task, start func() error) error {
	// The exit channel must outlive ctx: stopping waits on it.
	waitCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	exited, err := task.Wait(waitCtx)
	if err != nil {
		return fmt.Errorf("wait task %s: %w", t.Name(), err)
	}
	if err := start(); err != nil {
		t.deleteTask(waitCtx, task, containerd.WithProcessKill)
		return err
	}
	select {
	case st := <-exited:
		t.deleteTask(waitCtx, task)
		return exitErr(st)
	case <-ctx.Done():
	}
	if errors.Is(context.Cause(ctx), supervisor.ErrDetach) {
		return nil
	}
	t.stop(waitCtx, task, exited)
	return nil
}

func exitErr(st containerd.ExitStatus) error {
	code, _, err := st.Result()
	if err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	if code != 0 {
		return &supervisor.ExitError{Code: int(code)}
	}
	return nil
}

// stop sends SIGTERM, then SIGKILL to every process after the grace period,
// and deletes task and container.
func (t *Task) stop(ctx context.Context, task containerd.Task, exited <-chan containerd.ExitStatus) {
	grace := t.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
		t.log().Warn("SIGTERM", "service", t.Name(), "err", err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-exited:
	case <-timer.C:
		t.log().Warn("did not stop in time: SIGKILL", "service", t.Name(), "grace", grace)
		if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
			t.log().Warn("SIGKILL", "service", t.Name(), "err", err)
		}
		<-exited
	}
	t.deleteTask(ctx, task)
	if t.container != nil {
		if err := t.container.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
			t.log().Warn("delete container", "service", t.Name(), "err", err)
		}
		t.container = nil
	}
}

func (t *Task) deleteTask(ctx context.Context, task containerd.Task, opts ...containerd.ProcessDeleteOpts) {
	if _, err := task.Delete(ctx, opts...); err != nil && !errdefs.IsNotFound(err) && !errors.Is(err, context.Canceled) {
		t.log().Warn("delete task", "service", t.Name(), "err", err)
	}
}
