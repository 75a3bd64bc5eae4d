// Package rosd is the ros daemon (`ros daemon`): it runs the onboot
// containers of the assembled tree in order with runc, then keeps every
// service running as a containerd task, and stops them on SIGTERM.
package rosd

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ros-os/ros/pkg/configapply"
	"github.com/ros-os/ros/pkg/datasource"
	"github.com/ros-os/ros/pkg/supervisor"
	"github.com/ros-os/ros/pkg/tasks"
	"github.com/ros-os/ros/upgrade"
)

// ReadyLine is printed on the console once every service has been running
// at the same time for Options.Settle. Past Options.ReadyDeadline without
// that, "ros: services ready except NAME[, NAME]" is printed instead.
const ReadyLine = "ros: services ready"

// Readiness defaults (see Options).
const (
	DefaultSettle        = time.Second
	DefaultReadyDeadline = 60 * time.Second
)

// Options configure Run. Zero values take the device defaults.
type Options struct {
	Root      string // assembled tree ("/"): containers/{onboot,services}/ under it
	LogDir    string // per-container logs (/var/log/ros)
	StateDir  string // per-boot state, e.g. the onboot-done marker (/run/ros)
	DataDir   string // persistent state on ROS_STATE: database, added services (/var/lib/ros)
	Socket    string // the API socket (/run/ros/ros.sock); "-" serves no API
	Group     string // the group allowed on the API socket besides root (ros)
	Address   string // containerd socket (/run/containerd/containerd.sock)
	Namespace string // containerd namespace (services.ros)

	RuncBinary string // /usr/bin/runc, for onboot containers
	RuncRoot   string // /run/runc
	// Runtime is the OCI runtime binary containerd's runc shim drives for
	// services; "" means runc. `ros daemon` passes tasks.DefaultRuntime
	// (crun) when it is installed.
	Runtime string

	// Binary is the static ros binary, bound into socket-activated
	// services as their wrapper (/usr/bin/ros).
	Binary string
	// Version is reported by the API (`ros` sets it).
	Version string
	// Cmdline is the kernel command line; "" reads /proc/cmdline.
	Cmdline string
	// Finder finds the NoCloud and config-drive filesystems; nil scans
	// the block devices.
	Finder datasource.Finder
	// HTTP configures the network datasources (tests point it at a
	// local metadata server).
	HTTP datasource.HTTPOptions
	// Datasources, when set, replaces the datasource list of the config
	// (ros.cloud_init.datasources) and the defaults.
	Datasources []string
	// ConfigSystem is where cloud-config is applied; nil is the machine
	// (configapply.Host with Root).
	ConfigSystem *configapply.System
	// NetworkDeadline bounds the wait for network datasources (2 min).
	NetworkDeadline time.Duration

	Grace   time.Duration      // SIGTERM to SIGKILL when stopping a service (10 s)
	Backoff supervisor.Backoff // service restart backoff (1 s .. 30 s, reset after 60 s)

	// Settle is how long every service must have been running, all at the
	// same time, before ReadyLine is printed (1 s): a service that crashes
	// right after it starts does not count as up.
	Settle time.Duration
	// ReadyDeadline, counted from Run's start, is when the services that
	// are not ready yet are named on the console (60 s).
	ReadyDeadline time.Duration

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

	// Machine is the A/B upgrade state; nil finds it from ros.slot= and
	// the boot disk (tests give one over a disk image).
	Machine *upgrade.Machine
	// Power asks PID 1 to reboot or power off (default: the signals of
	// os/init); tests record the request instead.
	Power func(poweroff bool) error
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
	def(&o.DataDir, "/var/lib/ros")
	def(&o.Socket, "/run/ros/ros.sock")
	def(&o.Group, "ros")
	def(&o.Binary, "/usr/bin/ros")
	def(&o.Address, "/run/containerd/containerd.sock")
	def(&o.Namespace, tasks.DefaultNamespace)
	def(&o.RuncBinary, "/usr/bin/runc")
	def(&o.RuncRoot, "/run/runc")
	if o.NetworkDeadline <= 0 {
		o.NetworkDeadline = 2 * time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.ReadyDeadline <= 0 {
		o.ReadyDeadline = DefaultReadyDeadline
	}
	if o.Backoff == (supervisor.Backoff{}) {
		o.Backoff = supervisor.DefaultBackoff()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
}
