// Package initrd is stage 1 of ros init, the /init of the initramfs: it
// mounts the kernel filesystems, loads the modules needed to reach the root,
// finds the root (an embedded /rootfs.squashfs, the ROS_A/ROS_B slot named on
// the command line, or a live medium), mounts it read-only with a writable
// /etc overlay, tmpfs /run and /tmp and the state partition at /var, and
// switches to /sbin/init. Boot is a declarative list of phases, each logged
// on the console with its duration; any failure is printed and the machine
// reboots after a pause, so stage 1 never dead-ends.
package initrd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/cmdline"
)

// Fixed paths of stage 1.
const (
	NewRoot     = "/newroot"         // where the root squashfs is mounted
	MediaDir    = "/run/ros/media"   // a live medium, moved into the new root later
	OverlayDir  = "/run/ros/overlay" // tmpfs with the overlay upper and work dirs (in the new root)
	EmbeddedFS  = "/rootfs.squashfs" // a root appended to the initramfs (PXE)
	LiveFS      = "/ros/rootfs.squashfs"
	DefaultInit = "/sbin/init"
)

// StateLabels name the state partition (GPT name or ext4 label), in order of preference.
var StateLabels = []string{"ROS_STATE", "RANCHER_STATE"}

// OverlayDirs are the directories of the read-only root made writable by an
// overlay whose upper layer lives in a tmpfs (rebuilt at every boot).
var OverlayDirs = []string{"/etc"}

// ErrNoRoot means no root filesystem was found.
var ErrNoRoot = errors.New("no root filesystem found")

// Config is what the kernel command line asks of stage 1.
type Config struct {
	Slot     string        // ros.slot=A|B: boot the partition named ROS_<Slot>
	Live     bool          // ros.live: boot /ros/rootfs.squashfs from a live medium
	Debug    bool          // ros.debug: run /bin/sh of the root before switching
	Init     string        // init=: program to run in the new root
	RootWait time.Duration // ros.rootwait=SECONDS: how long to wait for the root device
	// THP is the transparent huge pages mode to set (THPMode), or "" when
	// transparent_hugepage= on the command line has chosen.
	THP string
}

// ParseConfig reads the ros.* parameters of a kernel command line.
func ParseConfig(line string) (Config, error) {
	c := cmdline.Parse(line)
	cfg := Config{Init: DefaultInit, RootWait: 10 * time.Second, THP: THPMode}
	if c.Has("transparent_hugepage") {
		cfg.THP = ""
	}
	if v, ok := c.Get("ros.slot"); ok {
		if v != "A" && v != "B" {
			return cfg, fmt.Errorf("ros.slot=%q: want A or B", v)
		}
		cfg.Slot = v
	}
	cfg.Live = c.Has("ros.live")
	cfg.Debug = c.Has("ros.debug")
	if v, ok := c.Get("init"); ok && strings.HasPrefix(v, "/") {
		cfg.Init = v
	}
	if v, ok := c.Get("ros.rootwait"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, fmt.Errorf("ros.rootwait=%q: want whole seconds", v)
		}
		cfg.RootWait = time.Duration(n) * time.Second
	}
	return cfg, nil
}

// Root says where the root squashfs comes from.
type Root struct {
	Kind   string // "embedded", "slot" or "live"
	Source string // block device or file holding the squashfs
	File   bool   // Source is a file: attach it to a loop device
	Media  string // the live medium's device, mounted at MediaDir ("" otherwise)
}

// State is carried from phase to phase.
type State struct {
	Sys     System
	Console io.Writer
	// Sleep waits between probes for a slow root device; Rescan looks for
	// new devices meanwhile (module coldplug). Both may be nil.
	Sleep  func(ctx context.Context, d time.Duration) error
	Rescan func(ctx context.Context)

	Config Config
	Root   Root
	Var    string // what was mounted at /var: a device, or "tmpfs"
}

// Logf prints one console line prefixed with "ros-initrd: ".
func (s *State) Logf(format string, args ...any) {
	fmt.Fprintf(s.Console, "ros-initrd: "+format+"\n", args...)
}

func (s *State) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Phase is one named step of stage 1.
type Phase struct {
	Name string
	Run  func(ctx context.Context, s *State) error
}

// PhaseError reports which phase failed.
type PhaseError struct {
	Phase string
	Err   error
}

func (e *PhaseError) Error() string { return "phase " + e.Phase + ": " + e.Err.Error() }
func (e *PhaseError) Unwrap() error { return e.Err }

// Run runs phases in order, logging each with its duration, and stops at the
// first failure with a *PhaseError.
func Run(ctx context.Context, s *State, phases []Phase) error {
	for _, p := range phases {
		start := time.Now()
		if err := p.Run(ctx, s); err != nil {
			return &PhaseError{Phase: p.Name, Err: err}
		}
		s.Logf("phase %s done in %dms", p.Name, time.Since(start).Milliseconds())
	}
	return nil
}
