package apitest

import (
	"context"
	"fmt"

	"github.com/ros-os/ros/pkg/api"
)

// OSStatus implements api.Backend.
func (f *Fake) OSStatus(ctx context.Context) (*api.OSStatus, error) {
	if err := f.record("OSStatus"); err != nil {
		return nil, err
	}
	st := f.OS
	return &st, nil
}

// OSVersions implements api.Backend.
func (f *Fake) OSVersions(ctx context.Context, channel string) ([]api.OSVersion, error) {
	if err := f.record("OSVersions %s", channel); err != nil {
		return nil, err
	}
	return f.Versions, nil
}

// OSUpgrade implements api.Backend: it reports Steps, then answers Upgrade
// (or Err, after the steps).
func (f *Fake) OSUpgrade(ctx context.Context, req api.UpgradeRequest, progress func(api.Progress)) (*api.UpgradeResult, error) {
	for _, p := range f.Steps {
		progress(p)
	}
	if err := f.record("OSUpgrade %+v", req); err != nil {
		return nil, err
	}
	res := f.Upgrade
	res.Reboot = !req.NoReboot
	return &res, nil
}

// OSRollback implements api.Backend.
func (f *Fake) OSRollback(ctx context.Context, noReboot bool) (*api.RollbackResult, error) {
	if err := f.record("OSRollback noReboot=%v", noReboot); err != nil {
		return nil, err
	}
	for _, s := range f.OS.Slots {
		if !s.Booted {
			return &api.RollbackResult{Slot: s.Name, Version: s.Version, Reboot: !noReboot}, nil
		}
	}
	return nil, fmt.Errorf("%w: no other slot", api.ErrConflict)
}

// OSInstall implements api.Backend.
func (f *Fake) OSInstall(ctx context.Context, req api.InstallRequest, progress func(api.Progress)) error {
	for _, p := range f.Steps {
		progress(p)
	}
	return f.record("OSInstall %s force=%v", req.Device, req.Force)
}
