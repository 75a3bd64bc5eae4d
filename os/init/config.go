package rosinit

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/ros-os/ros/pkg/supervisor"
)

// Config is what PID 1 runs and where. DefaultConfig is the device.
type Config struct {
	Root    string    // the root filesystem ("/")
	Console io.Writer // console lines
	Sys     System

	ContainerdPath   string // /usr/bin/containerd
	ContainerdConfig string // /etc/containerd/config.toml
	ContainerdLog    string // /var/log/containerd.log
	RosPath          string // /usr/bin/ros (run as `ros daemon`)
	RosLog           string // /var/log/ros/rosd.log
	RuncBinary       string // /usr/bin/runc, for onshutdown containers
	LogDir           string // /var/log/ros
	Env              []string

	// Grace is given to the daemon's services, to containerd, and to every
	// remaining process between SIGTERM and SIGKILL at shutdown.
	Grace   time.Duration
	Backoff supervisor.Backoff

	// Coldplug loads the kernel modules the present hardware needs.
	Coldplug func(ctx context.Context) error

	// InputClass (/sys/class/input) is searched for evdev devices with a
	// power key, whose nodes under InputDev (/dev/input) are watched: a
	// press powers off. "" disables the watch.
	InputClass string
	InputDev   string
}

// DefaultConfig is PID 1 on a ros device.
func DefaultConfig() Config {
	return Config{
		Root:             "/",
		Console:          os.Stdout,
		Sys:              Host{},
		ContainerdPath:   "/usr/bin/containerd",
		ContainerdConfig: "/etc/containerd/config.toml",
		ContainerdLog:    "/var/log/containerd.log",
		RosPath:          "/usr/bin/ros",
		RosLog:           "/var/log/ros/rosd.log",
		RuncBinary:       "/usr/bin/runc",
		LogDir:           "/var/log/ros",
		Env:              []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=linux"},
		Grace:            10 * time.Second,
		Backoff:          supervisor.DefaultBackoff(),
		Coldplug:         ColdplugModules,
		InputClass:       "/sys/class/input",
		InputDev:         "/dev/input",
	}
}
