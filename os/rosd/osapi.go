package rosd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/upgrade"
	upbundle "github.com/ros-os/ros/upgrade/bundle"
	"github.com/ros-os/ros/upgrade/channel"
	"github.com/ros-os/ros/upgrade/slot"
)

// rebootDelay lets the answer of an upgrade or rollback reach the caller
// before the machine goes down.
const rebootDelay = time.Second

// reboot asks PID 1 to reboot.
func (d *daemon) reboot() error { return d.power(false) }

func (d *daemon) power(off bool) error {
	if d.opts.Power != nil {
		return d.opts.Power(off)
	}
	sig := syscall.SIGTERM
	if off {
		sig = syscall.SIGUSR2
	}
	if err := syscall.Kill(1, sig); err != nil {
		return fmt.Errorf("signal PID 1: %w", err)
	}
	return nil
}

func (d *daemon) rebootSoon(why string) {
	d.console("ros: rebooting: %s", why)
	time.AfterFunc(rebootDelay, func() {
		if err := d.reboot(); err != nil {
			d.console("ros: reboot: %v", err)
		}
	})
}

func (b *backend) OSStatus(ctx context.Context) (*api.OSStatus, error) {
	st, err := b.d.machine.Status()
	if err != nil {
		return nil, err
	}
	out := &api.OSStatus{Version: st.Version, Live: st.Live, Booted: st.Booted, Next: st.Next, Trial: st.Trial}
	for _, s := range st.Slots {
		out.Slots = append(out.Slots, api.OSSlot{Name: s.Name, State: s.State, Version: s.Version, Booted: s.Booted, Next: s.Next})
	}
	if h := b.d.machine.History; h != nil {
		ups, err := h.Upgrades(ctx, 10)
		if err != nil {
			return nil, err
		}
		for _, u := range ups {
			out.History = append(out.History, api.UpgradeRecord{Time: u.Time, Version: u.Version, Slot: u.Slot, Status: u.Status, Message: u.Message})
		}
	}
	return out, nil
}

func (b *backend) OSVersions(ctx context.Context, ch string) ([]api.OSVersion, error) {
	m := b.d.machine
	b.d.refreshMachine(m, b.cfg)
	if ch == "" {
		ch = m.Channel
	}
	if ch == "" {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, upgrade.ErrNoChannel)
	}
	idx, err := channel.Load(ctx, m.Client, ch)
	if err != nil {
		return nil, err
	}
	var bad []string
	if m.History != nil {
		if ups, err := m.History.Upgrades(ctx, 0); err == nil {
			for _, u := range ups {
				if u.Status == upgrade.StatusFailed {
					bad = append(bad, u.Version)
				}
			}
		}
	}
	var out []api.OSVersion
	for _, e := range idx.Versions {
		out = append(out, api.OSVersion{
			Version: e.Version, Arch: e.Arch, Size: e.Size, BuildTime: e.BuildTime,
			Current: e.Version == m.Version, Bad: slices.Contains(bad, e.Version),
		})
	}
	return out, nil
}

func (b *backend) OSUpgrade(ctx context.Context, req api.UpgradeRequest, progress func(api.Progress)) (*api.UpgradeResult, error) {
	if req.PauseAt != "" && !slices.Contains(upgrade.Pauses, req.PauseAt) {
		return nil, fmt.Errorf("%w: pause at %q: want one of %v", api.ErrInvalid, req.PauseAt, upgrade.Pauses)
	}
	m := b.d.machine
	b.d.refreshMachine(m, b.cfg)
	res, err := m.Upgrade(ctx, upgrade.Request{
		Bundle: req.Bundle, Image: req.Image, Version: req.Version, Channel: req.Channel,
		Force: req.Force, Insecure: req.Insecure, PauseAt: req.PauseAt,
	}, func(p upgrade.Progress) {
		if p.Phase == "paused" {
			b.d.console("ros: upgrade paused at %s", p.Message)
		}
		progress(api.Progress{Phase: p.Phase, Done: p.Done, Total: p.Total, Message: p.Message})
	})
	if err != nil {
		return nil, upgradeError(err)
	}
	out := &api.UpgradeResult{
		From: res.From, To: res.To, Slot: res.Slot, Bytes: res.Bytes,
		Fetch: res.Fetch, Verify: res.Verify, Write: res.Write, ReadBack: res.ReadBack,
		Reboot: !req.NoReboot,
	}
	if out.Reboot {
		b.d.rebootSoon(fmt.Sprintf("trial boot of %s in slot %s", res.To, res.Slot))
	}
	return out, nil
}

func (b *backend) OSRollback(ctx context.Context, noReboot bool) (*api.RollbackResult, error) {
	m := b.d.machine
	s, err := m.Rollback(ctx)
	if err != nil {
		return nil, upgradeError(err)
	}
	st, err := m.Status()
	res := &api.RollbackResult{Slot: s, Reboot: !noReboot}
	if err == nil {
		for _, si := range st.Slots {
			if si.Name == s {
				res.Version = si.Version
			}
		}
	}
	if res.Reboot {
		b.d.rebootSoon("rollback to slot " + s)
	}
	return res, nil
}

// upgradeError maps the refusals of an upgrade to API statuses: a request
// that cannot be carried out here is a conflict, a malformed one invalid.
func upgradeError(err error) error {
	conflicts := []error{
		upgrade.ErrLive, upgrade.ErrBusy, upgrade.ErrNoGood, upgrade.ErrTooBig, upgrade.ErrUpToDate,
		upbundle.ErrUnsigned, upbundle.ErrBadSignature, upbundle.ErrUnknownKey, upbundle.ErrTruncated,
		upbundle.ErrSize, upbundle.ErrHash, upbundle.ErrArch, upbundle.ErrCompatible, upbundle.ErrDowngrade,
		upbundle.ErrMinVersion, upbundle.ErrKnownBad, upbundle.ErrFormat, slot.ErrTooBig, grub.ErrGoodSlot,
	}
	for _, c := range conflicts {
		if errors.Is(err, c) {
			return kindError{api.ErrConflict, err}
		}
	}
	for _, c := range []error{upgrade.ErrNoSource, upgrade.ErrNoChannel} {
		if errors.Is(err, c) {
			return kindError{api.ErrInvalid, err}
		}
	}
	return err
}

// kindError gives err an API status without changing its message.
type kindError struct{ kind, err error }

func (e kindError) Error() string   { return e.err.Error() }
func (e kindError) Unwrap() []error { return []error{e.kind, e.err} }
