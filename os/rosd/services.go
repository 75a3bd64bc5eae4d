package rosd

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/supervisor"
)

// readiness tracks which services have had a running task; it fires once,
// when all of them have.
type readiness struct {
	mu      sync.Mutex
	want    map[string]bool
	fired   bool
	onReady func()
}

func newReadiness(names []string, onReady func()) *readiness {
	r := &readiness{want: map[string]bool{}, onReady: onReady}
	for _, n := range names {
		r.want[n] = true
	}
	return r
}

// running marks name as running; the call completing the set fires onReady.
func (r *readiness) running(name string) {
	r.mu.Lock()
	delete(r.want, name)
	fire := len(r.want) == 0 && !r.fired
	if fire {
		r.fired = true
	}
	r.mu.Unlock()
	if fire {
		r.onReady()
	}
}

func (d *daemon) runServices(ctx context.Context, client *containerd.Client, start time.Time) error {
	bundles, err := containers.ListBundles(filepath.Join(d.opts.Root, "containers", "services"))
	if err != nil {
		return err
	}
	names := make([]string, len(bundles))
	for i, b := range bundles {
		names[i] = b.Name
	}
	ready := newReadiness(names, func() {
		took := time.Since(start).Round(time.Millisecond)
		d.log.Info("services ready", "services", len(names), "took", took)
		d.console(ReadyLine)
		_, _ = sd.SdNotify(false, sd.SdNotifyReady)
	})
	if len(bundles) == 0 {
		ready.running("")
	}
	var wg sync.WaitGroup
	for _, b := range bundles {
		task := &containers.Task{
			Client:    client,
			Namespace: d.opts.Namespace,
			Bundle:    b,
			Tree:      d.opts.Root,
			LogPath:   filepath.Join(d.opts.LogDir, b.Name+".log"),
			Grace:     d.opts.Grace,
			Log:       d.log,
		}
		policy := supervisor.Policy{Backoff: d.opts.Backoff, OnEvent: func(e supervisor.Event) {
			d.event(e)
			if e.State == supervisor.StateRunning {
				ready.running(e.Name)
			}
		}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = supervisor.Supervise(ctx, task, policy)
		}()
	}
	<-ctx.Done()
	if context.Cause(ctx) == supervisor.ErrDetach {
		d.log.Info("detaching: services keep running")
	} else {
		d.log.Info("stopping services", "grace", d.opts.Grace)
	}
	wg.Wait()
	return nil
}

// event logs a service state change; restarts also go to the console.
func (d *daemon) event(e supervisor.Event) {
	if d.onEvent != nil {
		d.onEvent(e)
	}
	switch e.State {
	case supervisor.StateRunning:
		d.log.Info("service running", "service", e.Name, "restarts", e.Restarts)
	case supervisor.StateExited:
		d.log.Warn("service exited", "service", e.Name, "uptime", e.Uptime.Round(time.Millisecond), "err", e.Err)
		reason := "exited"
		if e.Err != nil {
			reason = "exited: " + e.Err.Error()
		}
		d.console("ros: service %s %s", e.Name, reason)
	case supervisor.StateWaiting:
		d.log.Warn("service restarting", "service", e.Name, "in", e.Delay, "restart", e.Restarts)
		d.console("ros: service %s: restart %d in %s", e.Name, e.Restarts, e.Delay)
	case supervisor.StateStopped:
		d.log.Info("service stopped", "service", e.Name)
	}
}
