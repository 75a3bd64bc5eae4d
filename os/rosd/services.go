package rosd

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"

	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/supervisor"
)

// listServices lists the service bundles of the tree, in start order.
func (d *daemon) listServices() ([]containers.Bundle, error) {
	return containers.ListBundles(filepath.Join(d.opts.Root, "containers", "services"))
}

func (d *daemon) runServices(ctx context.Context, client *containerd.Client, bundles []containers.Bundle, ready *readyWatch) error {
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
			ready.set(e.Name, e.State == supervisor.StateRunning)
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
