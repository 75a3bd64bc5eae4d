package upgrade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/state"
	"github.com/ros-os/ros/upgrade/bundle"
)

// Request says what to upgrade to. With none of Bundle, Image and Version
// set, the newest version of the channel is taken.
type Request struct {
	Bundle   string // path, file:// or http(s):// URL of a bundle file
	Image    string // registry reference or oci-archive:PATH of a bundle image
	Version  string // a version listed by the channel
	Channel  string // channel index URL; default Machine.Channel
	Force    bool   // allow a downgrade, the same version, or a version that failed before
	Insecure bool   // accept a bundle without a valid signature (logged)
	// PauseAt stops the upgrade at a step until ctx ends, so tests can cut
	// the power there (see Pauses).
	PauseAt string
}

// Pauses are the steps PauseAt can name, in order.
var Pauses = []string{"write:start", "write:middle", "write:end", "env:start", "env:middle", "env:end"}

// Progress is one report of a running upgrade.
type Progress struct {
	Phase   string // fetch, verify, write, readback, bootenv, paused, done
	Done    int64  // bytes done in this phase
	Total   int64  // bytes in this phase (0: unknown)
	Message string
}

// Result says what an upgrade did and how long each step took.
type Result struct {
	From, To string // versions
	Slot     string // the slot written, booted next on trial
	Bytes    int64  // payload size
	Fetch    time.Duration
	Verify   time.Duration
	Write    time.Duration
	ReadBack time.Duration
}

// Upgrade verifies the bundle req names completely, writes it into the
// idle slot, reads it back, and arms one trial boot of that slot. The
// caller reboots. Every refusal happens before the slot is touched.
func (m *Machine) Upgrade(ctx context.Context, req Request, progress func(Progress)) (*Result, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	if m.Booted == "" || m.Disk == nil || m.Env == nil {
		return nil, ErrLive
	}
	if !m.busy.TryLock() {
		return nil, ErrBusy
	}
	defer m.busy.Unlock()

	res := &Result{From: m.Version, Slot: grub.Other(m.Booted)}
	start := time.Now()
	path, done, err := m.fetch(ctx, req, progress)
	if err != nil {
		return nil, err
	}
	defer done()
	res.Fetch = time.Since(start)

	start = time.Now()
	progress(Progress{Phase: "verify", Message: "checking signature, size and sha256"})
	b, err := bundle.Open(path)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	man := b.Manifest()
	res.To, res.Bytes = man.Version, man.Payload.Size
	if req.Insecure {
		m.event(ctx, man.Version, "upgrade to %s with --insecure: the signature is not required", man.Version)
	}
	idle := res.Slot
	s, err := m.Disk.Open(idle)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if man.Payload.Size > s.Size() {
		return nil, fmt.Errorf("%w: payload of %s is %d bytes, slot %s holds %d", ErrTooBig, man.Version, man.Payload.Size, idle, s.Size())
	}
	err = b.Verify(ctx, bundle.Policy{
		Keys: m.Keys, Insecure: req.Insecure, Arch: m.Arch, Compatible: m.Compatible,
		Current: m.Version, Force: req.Force, Bad: m.badVersions(ctx), Log: m.log(),
		Progress: func(done, total int64) { progress(Progress{Phase: "verify", Done: done, Total: total}) },
	})
	if err != nil {
		return nil, err
	}
	res.Verify = time.Since(start)

	if m.Sync != nil {
		m.Sync()
	}
	// From here the idle slot changes: say so in grubenv first, so GRUB
	// never falls back to a half-written slot.
	if err := m.updateEnv(ctx, func(e bootEnv) error { return e.markWriting(idle, man.Version) }, "", progress); err != nil {
		return nil, err
	}
	if err := m.pause(ctx, req, "write:start", progress); err != nil {
		return nil, err
	}
	start = time.Now()
	half := man.Payload.Size / 2
	paused := false
	var perr error
	err = s.Write(ctx, b.Payload(), man.Payload.Size, func(n int64) {
		progress(Progress{Phase: "write", Done: n, Total: man.Payload.Size})
		if !paused && n >= half {
			paused = true
			perr = m.pause(ctx, req, "write:middle", progress)
		}
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return nil, fmt.Errorf("write slot %s: %w", idle, err)
	}
	if err := m.pause(ctx, req, "write:end", progress); err != nil {
		return nil, err
	}
	res.Write = time.Since(start)

	start = time.Now()
	progress(Progress{Phase: "readback", Total: man.Payload.Size, Message: "reading slot " + idle + " back"})
	if err := s.Verify(ctx, man.Payload.Size, man.Payload.SHA256); err != nil {
		return nil, fmt.Errorf("read back slot %s: %w", idle, err)
	}
	res.ReadBack = time.Since(start)

	progress(Progress{Phase: "bootenv", Message: "arming one trial boot of slot " + idle})
	if err := m.pause(ctx, req, "env:start", progress); err != nil {
		return nil, err
	}
	err = m.updateEnv(ctx, func(e bootEnv) error { return e.arm(idle, man.Version, man.Cmdline) },
		pauseName(req, "env:middle"), progress)
	if err != nil {
		return nil, err
	}
	if err := m.pause(ctx, req, "env:end", progress); err != nil {
		return nil, err
	}
	m.record(ctx, state.Upgrade{Version: man.Version, Slot: idle, Status: StatusInstalled})
	m.event(ctx, man.Version, "%s written to slot %s (%d bytes); its trial boot is next", man.Version, idle, man.Payload.Size)
	progress(Progress{Phase: "done", Message: fmt.Sprintf("%s is in slot %s; reboot to try it", man.Version, idle)})
	return res, nil
}

// pause blocks at step when the request names it, until ctx ends.
func (m *Machine) pause(ctx context.Context, req Request, step string, progress func(Progress)) error {
	if req.PauseAt != step {
		return nil
	}
	progress(Progress{Phase: "paused", Message: step})
	m.log().Warn("upgrade paused", "at", step)
	<-ctx.Done()
	return fmt.Errorf("upgrade paused at %s: %w", step, ctx.Err())
}

func pauseName(req Request, step string) string {
	if req.PauseAt == step {
		return step
	}
	return ""
}

// ErrTooBig refuses a payload larger than the slot.
var ErrTooBig = errors.New("payload too big for the slot")
