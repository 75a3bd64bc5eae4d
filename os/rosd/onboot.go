package rosd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ros-os/ros/pkg/containers"
)

// onbootMarker records in StateDir (a tmpfs, so once per boot) that onboot
// containers ran: a restarted rosd must not run them again.
const onbootMarker = "onboot.done"

// runOnboot runs containers/onboot/* in order with runc. A failing container
// is reported and the next one runs anyway.
func (d *daemon) runOnboot(ctx context.Context) error {
	marker := filepath.Join(d.opts.StateDir, onbootMarker)
	if _, err := os.Stat(marker); err == nil {
		d.log.Info("onboot containers already ran this boot", "marker", marker)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("onboot marker: %w", err)
	}
	bundles, err := containers.ListBundles(filepath.Join(d.opts.Root, "containers", "onboot"))
	if err != nil {
		return err
	}
	runc := &containers.Runc{Binary: d.opts.RuncBinary, Root: d.opts.RuncRoot, Tree: d.opts.Root, Reaper: d.reaper}
	for _, b := range bundles {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.runOneShot(ctx, runc, "onboot", b)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return fmt.Errorf("onboot marker: %w", err)
	}
	return nil
}

func (d *daemon) runOneShot(ctx context.Context, runc *containers.Runc, kind string, b containers.Bundle) {
	logPath := filepath.Join(d.opts.LogDir, kind+"-"+b.Name+".log")
	start := time.Now()
	err := func() error {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("open log: %w", err)
		}
		defer f.Close()
		return runc.Run(ctx, b, f)
	}()
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		d.log.Error(kind+" container failed", "name", b.Name, "after", took, "err", err, "log", logPath)
		d.console("ros: %s %s FAILED after %s: %v (log %s)", kind, b.Name, took, err, logPath)
		return
	}
	d.log.Info(kind+" container done", "name", b.Name, "took", took)
	d.console("ros: %s %s done in %s", kind, b.Name, took)
}
