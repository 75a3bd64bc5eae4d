package rosinit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/containers"
)

// shutdownPhases is the way down, in order.
func (i *Init) shutdownPhases(a Action) []Phase {
	return []Phase{
		{"onshutdown", i.onshutdown},
		{"services", func(context.Context) error { return i.stopSupervised(i.daemon) }},
		{"containerd", func(context.Context) error { return i.stopSupervised(i.containerd) }},
		{"kill", i.killAll},
		{"sync", func(context.Context) error { i.cfg.Sys.Sync(); return nil }},
		{"unmount", i.unmountAll},
	}
}

// onshutdown runs containers/onshutdown/* in order with runc.
func (i *Init) onshutdown(ctx context.Context) error {
	bundles, err := containers.ListBundles(filepath.Join(i.cfg.Root, "containers", "onshutdown"))
	if err != nil {
		return err
	}
	runc := &containers.Runc{Binary: i.cfg.RuncBinary, Tree: i.cfg.Root, Reaper: i.reaper}
	var errs []error
	for _, b := range bundles {
		start := time.Now()
		err := func() error {
			f, err := os.OpenFile(filepath.Join(i.cfg.LogDir, "onshutdown-"+b.Name+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
			if err != nil {
				return err
			}
			defer f.Close()
			return runc.Run(ctx, b, f)
		}()
		if err != nil {
			i.say("onshutdown %s FAILED after %s: %v", b.Name, ms(time.Since(start)), err)
			errs = append(errs, err)
			continue
		}
		i.say("onshutdown %s done in %s", b.Name, ms(time.Since(start)))
	}
	return errors.Join(errs...)
}

// stopSupervised stops a supervised process (SIGTERM, grace, SIGKILL) and
// waits until it is gone.
func (i *Init) stopSupervised(s *supervised) error {
	if s == nil {
		return nil
	}
	s.stop()
	<-s.done
	return nil
}

// killAll sends SIGTERM to every process left, waits up to the grace period
// for them to go, then SIGKILLs the rest.
func (i *Init) killAll(context.Context) error {
	if len(userProcesses()) == 0 {
		return nil
	}
	_ = unix.Kill(-1, syscall.SIGTERM)
	deadline := time.Now().Add(i.cfg.Grace)
	for time.Now().Before(deadline) {
		if len(userProcesses()) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	left := userProcesses()
	i.say("%d processes left after %s: SIGKILL", len(left), i.cfg.Grace)
	_ = unix.Kill(-1, syscall.SIGKILL)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end) && len(userProcesses()) > 0; {
		time.Sleep(50 * time.Millisecond)
	}
	if left := userProcesses(); len(left) > 0 {
		return fmt.Errorf("%d processes survived SIGKILL: %v", len(left), left)
	}
	return nil
}

// userProcesses lists the pids of live user-space processes other than us
// (kernel threads and zombies have an empty cmdline).
func userProcesses() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && len(b) > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountAll unmounts everything but the API filesystems, deepest first;
// what cannot be unmounted (the root, a busy mount) is remounted read-only.
func (i *Init) unmountAll(context.Context) error {
	mounts, err := i.cfg.Sys.Mounts()
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	var errs []error
	for _, s := range PlanUnmount(mounts) {
		if !s.RemountOnly {
			if err := i.cfg.Sys.Unmount(s.Target, 0); err == nil {
				continue
			}
		}
		if s.ReadOnlyNow {
			continue
		}
		if err := i.cfg.Sys.Mount("", s.Target, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			errs = append(errs, fmt.Errorf("remount %s read-only: %w", s.Target, err))
		}
	}
	i.cfg.Sys.Sync()
	return errors.Join(errs...)
}
