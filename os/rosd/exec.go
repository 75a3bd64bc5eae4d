package rosd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/namespaces"

	"github.com/ros-os/ros/pkg/api"
)

// execSeq numbers exec processes: containerd wants an ID unique in the task.
var execSeq atomic.Uint64

// execIn runs args in the running task of service name, with the service's
// own process settings (user, capabilities, cwd) plus env, feeding stdin
// and copying stdout and stderr to out. It returns the exit code.
func execIn(ctx context.Context, client *containerd.Client, namespace, name string, args, env []string, stdin string, out io.Writer) (int, error) {
	if len(args) == 0 {
		return -1, fmt.Errorf("exec in %s: no command", name)
	}
	ctx = namespaces.WithNamespace(ctx, namespace)
	c, err := client.LoadContainer(ctx, name)
	if errdefs.IsNotFound(err) {
		return -1, fmt.Errorf("exec in %s: not running: %w", name, api.ErrConflict)
	}
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", name, err)
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return -1, fmt.Errorf("exec in %s: not running: %w", name, api.ErrConflict)
	}
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", name, err)
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: spec: %w", name, err)
	}
	pspec := *spec.Process
	pspec.Args = args
	pspec.Terminal = false
	pspec.Env = append(append([]string(nil), pspec.Env...), env...)
	id := fmt.Sprintf("ros-exec-%d-%d", time.Now().UnixNano(), execSeq.Add(1))
	w := &lockedWriter{w: out}
	proc, err := task.Exec(ctx, id, &pspec, cio.NewCreator(cio.WithStreams(strings.NewReader(stdin), w, w)))
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", name, err)
	}
	defer proc.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill) //nolint:errcheck // best effort: the process has exited
	exited, err := proc.Wait(ctx)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: wait: %w", name, err)
	}
	if err := proc.Start(ctx); err != nil {
		return -1, fmt.Errorf("exec in %s: start %s: %w", name, args[0], err)
	}
	select {
	case st := <-exited:
		// Let the output copy finish before the process is deleted.
		if pio := proc.IO(); pio != nil {
			pio.Wait()
		}
		code, _, err := st.Result()
		if err != nil {
			return -1, fmt.Errorf("exec in %s: %w", name, err)
		}
		return int(code), nil
	case <-ctx.Done():
		_ = proc.Kill(context.WithoutCancel(ctx), 9)
		return -1, fmt.Errorf("exec in %s: %w", name, ctx.Err())
	}
}

// taskPID returns the PID of service name's task, 0 when it has none.
func taskPID(ctx context.Context, client *containerd.Client, namespace, name string) uint32 {
	ctx = namespaces.WithNamespace(ctx, namespace)
	c, err := client.LoadContainer(ctx, name)
	if err != nil {
		return 0
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		return 0
	}
	return task.Pid()
}

// taskPIDs maps the containers of namespace to their task's PID, in one
// call; empty when containerd cannot say.
func taskPIDs(ctx context.Context, client *containerd.Client, namespace string) map[string]uint32 {
	ctx = namespaces.WithNamespace(ctx, namespace)
	out := map[string]uint32{}
	resp, err := client.TaskService().List(ctx, &tasks.ListTasksRequest{})
	if err != nil {
		return out
	}
	for _, t := range resp.Tasks {
		out[t.ID] = t.Pid
	}
	return out
}
