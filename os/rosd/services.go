package rosd

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/supervisor"
)

// serviceSet is what the services of this boot are: the image's, then
// those added on ROS_STATE, with the enable/disable overrides applied.
type serviceSet struct {
	bundles []containers.Bundle
	origin  map[string]string
	enabled map[string]bool
}

// listServices lists the service bundles of the tree and the added ones, in
// start order, and which are enabled.
func (d *daemon) listServices(overrides map[string]bool) (serviceSet, error) {
	set := serviceSet{origin: map[string]string{}, enabled: map[string]bool{}}
	image, err := containers.ListBundles(filepath.Join(d.opts.Root, "containers", "services"))
	if err != nil {
		return set, err
	}
	added, err := containers.ListBundles(d.addedDir())
	if err != nil {
		return set, err
	}
	for _, group := range []struct {
		origin  string
		bundles []containers.Bundle
	}{{originImage, image}, {originAdded, added}} {
		for _, b := range group.bundles {
			if _, dup := set.origin[b.Name]; dup {
				d.log.Warn("added service shadows nothing: an image service has its name", "service", b.Name)
				continue
			}
			set.bundles = append(set.bundles, b)
			set.origin[b.Name] = group.origin
			on, ok := overrides[b.Name]
			set.enabled[b.Name] = !ok || on
		}
	}
	return set, nil
}

// enabledNames lists the enabled services in start order.
func (s serviceSet) enabledNames() []string {
	var out []string
	for _, b := range s.bundles {
		if s.enabled[b.Name] {
			out = append(out, b.Name)
		}
	}
	return out
}

// addedDir holds the bundles of added services (on ROS_STATE).
func (d *daemon) addedDir() string { return filepath.Join(d.opts.DataDir, "services") }

// runServices starts the enabled services and waits until ctx is done, then
// waits for every supervisor to stop (or detach).
func (d *daemon) runServices(ctx context.Context, m *manager) error {
	m.startEnabled()
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), supervisor.ErrDetach) {
		d.log.Info("detaching: services keep running")
	} else {
		d.log.Info("stopping services", "grace", d.opts.Grace)
	}
	m.wait()
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
