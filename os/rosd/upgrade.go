package rosd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/cmdline"
	"github.com/ros-os/ros/pkg/grubenv"
	"github.com/ros-os/ros/upgrade"
	"github.com/ros-os/ros/upgrade/bootenv"
	upbundle "github.com/ros-os/ros/upgrade/bundle"
	"github.com/ros-os/ros/upgrade/slot"
	"golang.org/x/sys/unix"
)

// Where the OS describes itself and keeps upgrade files.
const (
	VersionFile   = "usr/lib/ros/version" // in Root: the running OS version
	ArchFile      = "usr/lib/ros/arch"
	ImageKeys     = "etc/ros/keys"             // in Root: keys the image trusts
	StateKeys     = "keys"                     // in DataDir: keys added later
	InstallConfig = "install/cloud-config.yml" // in DataDir: saved by ros install
	downloadDir   = "upgrade"                  // in DataDir
)

// DefaultTrialTimeout bounds a trial boot when ros.upgrade.health_timeout
// is not set.
const DefaultTrialTimeout = 5 * time.Minute

// kernelCmdline returns Options.Cmdline or /proc/cmdline.
func (d *daemon) kernelCmdline() string {
	if d.opts.Cmdline != "" {
		return d.opts.Cmdline
	}
	b, _ := os.ReadFile("/proc/cmdline")
	return strings.TrimSpace(string(b))
}

func readTrimmed(path, fallback string) string {
	b, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return fallback
	}
	return strings.TrimSpace(string(b))
}

// newMachine describes this machine for upgrades: the booted slot from
// ros.slot=, the boot disk found by its partition names, grubenv on its
// ESP (mounted only while it is read or written).
func (d *daemon) newMachine(ctx context.Context, cfg *configState) *upgrade.Machine {
	if d.opts.Machine != nil {
		return d.opts.Machine
	}
	arch := readTrimmed(filepath.Join(d.opts.Root, ArchFile), runtime.GOARCH)
	m := &upgrade.Machine{
		Version:     readTrimmed(filepath.Join(d.opts.Root, VersionFile), d.opts.Version),
		Arch:        arch,
		Compatible:  "ros-" + arch,
		DownloadDir: filepath.Join(d.opts.DataDir, downloadDir),
		Log:         d.log.With("part", "upgrade"),
		Sync:        unix.Sync,
		Event: func(ctx context.Context, subject, message string) {
			d.record(ctx, "upgrade", subject, message)
		},
	}
	slotName, _ := cmdline.Parse(d.kernelCmdline()).Get("ros.slot")
	if slotName != "A" && slotName != "B" {
		return m // live media, PXE: nothing to upgrade
	}
	disk, err := slot.FindBoot("/sys", "/dev")
	if err != nil {
		d.log.Error("boot disk", "err", err)
		d.console("ros: upgrades unavailable: %v", err)
		return m
	}
	m.Booted, m.Disk = slotName, disk
	m.Env = &espStore{dev: disk.ESP}
	if hs, ok := d.store.(upgrade.History); ok {
		m.History = hs
	}
	d.refreshMachine(m, cfg)
	return m
}

// refreshMachine takes the keys and channel from the running config.
func (d *daemon) refreshMachine(m *upgrade.Machine, cfg *configState) {
	dirs := []string{filepath.Join(d.opts.Root, ImageKeys), filepath.Join(d.opts.DataDir, StateKeys)}
	keys, err := upbundle.LoadPublicKeys(dirs...)
	if err != nil {
		d.log.Warn("upgrade keys", "err", err)
	}
	if cfg != nil {
		cfg.mu.Lock()
		if r := cfg.running; r != nil {
			m.Channel = r.ROS.Upgrade.URL
			for i, k := range r.ROS.Upgrade.PublicKeys {
				pk, err := upbundle.ParsePublicKey([]byte(k))
				if err != nil {
					d.log.Warn("upgrade key", "key", fmt.Sprintf("ros.upgrade.public_keys[%d]", i), "err", err)
					continue
				}
				keys = append(keys, pk)
			}
		}
		cfg.mu.Unlock()
	}
	m.Keys = keys
}

// trialTimeout is ros.upgrade.health_timeout or the default.
func trialTimeout(cfg *configState) time.Duration {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if r := cfg.running; r != nil && r.ROS.Upgrade.HealthTimeout != "" {
		if t, err := time.ParseDuration(r.ROS.Upgrade.HealthTimeout); err == nil && t > 0 {
			return t
		}
	}
	return DefaultTrialTimeout
}

// checkBoot settles the A/B state at boot: it records a trial that failed
// before this boot, and on a trial boot waits for the services to be
// healthy, then keeps the slot, or gives up and reboots into the good one.
func (d *daemon) checkBoot(ctx context.Context, m *upgrade.Machine, ready <-chan struct{}, timeout time.Duration) {
	b, err := m.Check(ctx)
	if err != nil {
		d.log.Error("A/B state", "err", err)
		d.console("ros: A/B state: %v", err)
		return
	}
	switch f := b.FellBack; {
	case f != nil && f.Rollback:
		d.console("ros: rollback to %s did not complete; back on slot %s: %s", f.Version, m.Booted, f.Reason)
	case f != nil:
		d.console("ros: upgrade to %s failed; back on slot %s: %s", f.Version, m.Booted, f.Reason)
	}
	if !b.Trial {
		return
	}
	d.console("ros: trial boot of slot %s (%s): kept once the services are healthy, within %s", b.Slot, b.Version, timeout)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-ready:
		if err := m.MarkGood(ctx); err != nil {
			d.log.Error("mark slot good", "err", err)
			d.console("ros: could not mark slot %s good: %v", b.Slot, err)
			return
		}
		d.console("ros: slot %s (%s) is good", b.Slot, b.Version)
	case <-t.C:
		reason := fmt.Sprintf("services not healthy within %s: %s", timeout, strings.Join(d.notReady(), ", "))
		m.FailTrial(ctx, b.Version, reason)
		d.console("ros: trial boot of slot %s (%s) failed: %s; rebooting into the good slot", b.Slot, b.Version, reason)
		if err := d.reboot(); err != nil {
			d.console("ros: reboot: %v", err)
		}
	}
}

// espStore is grubenv on the ESP, mounted for each load or save (the
// ESP stays unmounted, and clean, the rest of the time).
type espStore struct {
	dev string // the ESP's block device
}

func (s *espStore) with(fn func(*bootenv.DirStore) error) error {
	st, unmount, err := bootenv.OpenESP(context.Background(), s.dev)
	if err != nil {
		return err
	}
	err = fn(st)
	if uerr := unmount(); err == nil {
		err = uerr
	}
	return err
}

func (s *espStore) Load() (*grubenv.Env, error) {
	var env *grubenv.Env
	err := s.with(func(st *bootenv.DirStore) error {
		var err error
		env, err = st.Load()
		return err
	})
	return env, err
}

func (s *espStore) Save(env *grubenv.Env) error {
	return s.with(func(st *bootenv.DirStore) error { return st.Save(env) })
}

// SaveTorn writes the backup and n bytes of the primary copy, as a power
// cut there would leave them (power-cut tests).
func (s *espStore) SaveTorn(env *grubenv.Env, n int) error {
	return s.with(func(st *bootenv.DirStore) error { return st.SaveTorn(env, n) })
}
