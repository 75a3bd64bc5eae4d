package configapply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// System is every side effect Apply has: files under Root, and the
// functions below. Tests give a temporary Root and fakes.
type System struct {
	// Root is "/" on the machine; every path is taken under it. It must
	// be set.
	Root string
	// SetHostname sets the kernel's host name (default unix.Sethostname).
	SetHostname func(name string) error
	// Run runs a program, its output to out, and returns an error when it
	// fails or exits non-zero (default: os/exec, in /).
	Run func(ctx context.Context, name string, args []string, env []string, out io.Writer) error
	// Chown changes the owner of a file without following a last symlink
	// (default os.Lchown).
	Chown func(name string, uid, gid int) error
	// Net configures links, addresses and routes (default: netlink in
	// the current network namespace).
	Net Netlink
	// Log gets a line per step (default: discarded).
	Log *slog.Logger
	// Output gets the output of bootcmd, runcmd and scripts (rosd passes
	// /var/log/ros/cloud-config.log; default: discarded).
	Output io.Writer
}

// Netlink is the part of *netlink.Handle that ros.network uses.
type Netlink interface {
	LinkList() ([]netlink.Link, error)
	LinkByName(name string) (netlink.Link, error)
	LinkAdd(link netlink.Link) error
	LinkSetUp(link netlink.Link) error
	LinkSetDown(link netlink.Link) error
	LinkSetMTU(link netlink.Link, mtu int) error
	LinkSetMaster(link netlink.Link, master netlink.Link) error
	AddrReplace(link netlink.Link, addr *netlink.Addr) error
	RouteReplace(route *netlink.Route) error
}

// Host returns the System of the running machine: Root "/", the real
// syscalls and programs.
func Host() *System {
	return &System{
		Root:        "/",
		SetHostname: func(name string) error { return unix.Sethostname([]byte(name)) },
		Run:         runExec,
		Chown:       os.Lchown,
		Net:         &netlink.Handle{},
		Log:         slog.New(slog.DiscardHandler),
		Output:      io.Discard,
	}
}

// withDefaults returns a copy of s with unset functions taken from Host.
func (s *System) withDefaults() (*System, error) {
	if s == nil || s.Root == "" {
		return nil, errors.New("configapply: System.Root is empty; give \"/\" on a machine")
	}
	out := *s
	h := Host()
	if out.SetHostname == nil {
		out.SetHostname = h.SetHostname
	}
	if out.Run == nil {
		out.Run = h.Run
	}
	if out.Chown == nil {
		out.Chown = h.Chown
	}
	if out.Net == nil {
		out.Net = h.Net
	}
	if out.Log == nil {
		out.Log = h.Log
	}
	if out.Output == nil {
		out.Output = h.Output
	}
	return &out, nil
}

// path returns p (absolute, on the machine) under Root.
func (s *System) path(p string) string { return filepath.Join(s.Root, p) }

func runExec(ctx context.Context, name string, args []string, env []string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("run %s: %w", name, err)
	}
	return nil
}

// Stage says what kind of application this is.
type Stage int

const (
	// Live is `ros config set` or `merge` on a running machine: only the
	// keys that changed since prev are applied; bootcmd, runcmd and
	// scripts are not run.
	Live Stage = iota
	// Boot is the application at boot, on a machine whose /etc and /run
	// were made afresh: every key is applied and bootcmd runs.
	Boot
	// FirstBoot is Boot on the first boot of this instance (rosd tells it
	// by the instance-id): runcmd and the user-data scripts run too.
	FirstBoot
)

func (s Stage) String() string {
	switch s {
	case Live:
		return "live"
	case Boot:
		return "boot"
	case FirstBoot:
		return "first-boot"
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Report is what Apply did.
type Report struct {
	// Applied are the keys (as cloudconfig.Diff names them) applied
	// without error.
	Applied []string
	// NeedsReboot are the keys that changed but take effect only at the
	// next boot.
	NeedsReboot []string
	// RestartServices are the services whose configuration files
	// changed: the caller restarts those that run.
	RestartServices []string
	// Environment is ros.environment and the ros.network.proxy variables:
	// the caller gives it to services.
	Environment map[string]string
	// Warnings are things ignored or done differently than asked.
	Warnings []string
	// Errors are the failures, each an *Error naming its key; one key
	// failing never stops the others.
	Errors []error
}

// Err joins the Errors, nil when there are none.
func (r *Report) Err() error { return errors.Join(r.Errors...) }

// Error is the failure of one key.
type Error struct {
	Key string // write_files[2], users[0], ros.sysctl.vm.swappiness …
	Err error
}

func (e *Error) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
