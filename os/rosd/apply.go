package rosd

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/ros-os/ros/pkg/cloudconfig"
	"github.com/ros-os/ros/pkg/configapply"
)

// stage says when a config is applied.
type stage int

const (
	stageBoot stage = iota // at boot: bootcmd, and runcmd for a new instance
	stageLive              // `ros config set|merge`: no commands
)

// applied is what applying a config did.
type applied struct {
	applied []string // keys applied
	reboot  []string // keys that take effect at the next boot
	restart []string // services to restart for the change to take effect
	errs    []error  // keys that failed, each error naming its key
}

// apply merges the layers, applies the result over prev and records it.
// Called with c.mu held.
func (c *configState) apply(ctx context.Context, prev *cloudconfig.Config, st stage, instance string) {
	rep := c.applyAs(ctx, prev, st, instance, c.sources(), nil)
	if len(rep.applied) > 0 {
		c.d.console("ros: cloud-config applied: %s", strings.Join(rep.applied, ", "))
	}
	for _, err := range rep.errs {
		c.d.console("ros: cloud-config: %v", err)
	}
}

// applyAs applies the merged layers over prev, restarts the services the
// change concerns, and records the result. Called with c.mu held.
func (c *configState) applyAs(ctx context.Context, prev *cloudconfig.Config, st stage, instance, source string, warns cloudconfig.Warnings) applied {
	next := c.merged()
	first := st == stageBoot && c.firstBootOf(ctx, instance)
	rep := c.d.applyConfig(ctx, prev, next, st, first)
	c.running = next
	c.history(ctx, source, statusApplied, nil, warns, nil, next)
	// Services read their config when they start: restart those the change
	// concerns (at the first apply of a boot they have not started yet).
	if c.d.restart != nil {
		for _, name := range rep.restart {
			if err := c.d.restart(ctx, name); err != nil {
				rep.errs = append(rep.errs, err)
			}
		}
	}
	return rep
}

// applyConfig applies next over prev to the machine (configapply) and
// writes the engine's options.
func (d *daemon) applyConfig(ctx context.Context, prev, next *cloudconfig.Config, st stage, first bool) applied {
	sys := d.opts.ConfigSystem
	if sys == nil {
		sys = configapply.Host()
		sys.Root = d.opts.Root
		sys.Log = d.log
	}
	if sys.Output == nil || sys.Output == io.Discard {
		copySys := *sys
		sys = &copySys
		if f, err := os.OpenFile(filepath.Join(d.opts.LogDir, "cloud-config.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640); err == nil {
			defer f.Close()
			sys.Output = f
		}
	}
	cs := configapply.Live
	switch {
	case st == stageBoot && first:
		cs = configapply.FirstBoot
	case st == stageBoot:
		cs = configapply.Boot
	}
	rep := configapply.Apply(ctx, sys, prev, next, cs)
	out := applied{applied: rep.Applied, reboot: rep.NeedsReboot, restart: rep.RestartServices, errs: rep.Errors}
	var prevEngine cloudconfig.Engine
	if prev != nil {
		prevEngine = prev.ROS.Engine
	}
	if err := writeEngineConfig(d.opts.StateDir, next.ROS.Engine); err != nil {
		out.errs = append(out.errs, err)
	} else if !reflect.DeepEqual(prevEngine.Args, next.ROS.Engine.Args) || !reflect.DeepEqual(prevEngine.Daemon, next.ROS.Engine.Daemon) {
		if prev != nil {
			out.restart = append(out.restart, engineDocker)
		}
		if len(next.ROS.Engine.Args) > 0 || len(next.ROS.Engine.Daemon) > 0 {
			out.applied = append(out.applied, "ros.engine")
		}
	}
	for _, w := range rep.Warnings {
		d.log.Warn("cloud-config", "warning", w)
	}
	return out
}
