// Package rosd is the ros daemon (`ros daemon`): it runs the onboot
// containers of the assembled tree in order with runc, then keeps every
// service running as a containerd task, and stops them on SIGTERM.
package rosd

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/supervisor"
)

// ReadyLine is printed on the console once every service has a running task.
const ReadyLine = "ros: services ready"

// Options configure Run. Zero values take the device defaults.
type Options struct {
	Root      string // assembled tree ("/"): containers/{onboot,services}/ under it
	LogDir    string // per-container logs (/var/log/ros)
	StateDir  string // per-boot state, e.g. the onboot-done marker (/run/ros)
	Address   string // containerd socket (/run/containerd/containerd.sock)
	Namespace string // containerd namespace (services.ros)

	RuncBinary string // /usr/bin/runc
	RuncRoot   string // /run/runc

	Grace   time.Duration      // SIGTERM to SIGKILL when stopping a service (10 s)
	Backoff supervisor.Backoff // service restart backoff (1 s .. 30 s, reset after 60 s)

	// Console receives the lines an operator must see (onboot results,
	// restarts, the ready line); nil opens /dev/console (stderr if that
	// fails).
	Console io.Writer
	// Logger receives everything; nil logs text to stderr.
	Logger *slog.Logger
	// Reaper waits runc's children. nil: rosd makes itself a child
	// subreaper and runs its own reaping loop.
	Reaper *supervisor.Reaper
	// OnEvent, if set, sees every service state change (tests, API).
	OnEvent func(supervisor.Event)
}

func (o *Options) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Root, "/")
	def(&o.LogDir, "/var/log/ros")
	def(&o.StateDir, "/run/ros")
	def(&o.Address, "/run/containerd/containerd.sock")
	def(&o.Namespace, containers.DefaultNamespace)
	def(&o.RuncBinary, "/usr/bin/runc")
	def(&o.RuncRoot, "/run/runc")
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.Backoff == (supervisor.Backoff{}) {
		o.Backoff = supervisor.DefaultBackoff()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
}
