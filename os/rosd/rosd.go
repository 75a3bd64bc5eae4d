package rosd

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/supervisor"
	"github.com/ros-os/ros/upgrade"
)

type daemon struct {
	opts    Options
	log     *slog.Logger
	reaper  *supervisor.Reaper
	conMu   sync.Mutex
	conOut  io.Writer
	onEvent func(supervisor.Event)

	store stateStore
	// machine is the A/B upgrade state; ready is closed once every
	// service is ready (a trial boot waits for it).
	machine   *upgrade.Machine
	ready     chan struct{}
	readyOnce sync.Once
	readyW    *readyWatch
	// installing refuses a second install while one runs.
	installing sync.Mutex
	// restart restarts a running service (config changes); nil until the
	// services run.
	restart func(ctx context.Context, name string) error
}

// Run runs onboot containers (once per boot), then supervises every service
// until ctx is done. Once every service has been running at the same time
// for Options.Settle it prints ReadyLine on the console; if that has not
// happened Options.ReadyDeadline after Run started, it prints one line
// naming the services that are not ready (and ReadyLine later, if they
// become ready). Then it stops and deletes their tasks, unless
// context.Cause(ctx) is supervisor.ErrDetach: then it returns leaving them
// running, and the next Run adopts them.
func Run(ctx context.Context, opts Options) error {
	opts.defaults()
	d := &daemon{opts: opts, log: opts.Logger, reaper: opts.Reaper, conOut: opts.Console, onEvent: opts.OnEvent,
		ready: make(chan struct{})}
	if d.conOut == nil {
		if f, err := os.OpenFile("/dev/console", os.O_WRONLY|syscall.O_NOCTTY, 0); err == nil {
			defer f.Close()
			d.conOut = f
		} else {
			d.conOut = os.Stderr
		}
	}
	for _, dir := range []string{opts.LogDir, opts.StateDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("rosd: %w", err)
		}
	}
	if d.reaper == nil {
		if err := supervisor.SetSubreaper(); err != nil {
			return fmt.Errorf("rosd: %w", err)
		}
		d.reaper = supervisor.NewReaper()
		loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		defer stop()
		go d.reaper.Loop(loopCtx, nil)
	}
	start := time.Now()
	for _, dir := range []string{opts.DataDir, filepath.Join(opts.StateDir, "bin")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("rosd: %w", err)
		}
	}
	d.log.Info("services' OCI runtime", "binary", cmp.Or(opts.Runtime, "runc"))
	store, closeStore := d.openStore(ctx)
	defer closeStore()
	d.store = store
	d.record(ctx, "boot", "rosd", "started")

	// cloud-config from local sources is applied before any service
	// starts: sshd must see the keys, services the hostname.
	cfg := newConfigState(d)
	network := cfg.boot(ctx)
	overrides, err := store.ServiceOverrides(ctx)
	if err != nil {
		d.log.Warn("service overrides", "err", err)
	}
	overrides = cfg.serviceOverrides(overrides)
	cfg.mu.Lock()
	var defs []*buildfile.Image
	if cfg.running != nil {
		defs = cfg.running.ROS.Services.Definitions
	}
	cfg.mu.Unlock()
	d.installDefinitions(ctx, defs)
	d.machine = d.newMachine(ctx, cfg)

	set, err := d.listServices(overrides)
	if err != nil {
		return fmt.Errorf("rosd: %w", err)
	}
	names := set.enabledNames()
	// Readiness is watched from the start: if containerd never answers,
	// the deadline line still names every service.
	ready := newReadyWatch(names, opts.Settle)
	d.readyW = ready
	go d.checkBoot(ctx, d.machine, d.ready, trialTimeout(cfg))
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		d.watchReady(watchCtx, ready, len(names), start)
	}()
	defer func() { stopWatch(); <-watched }()
	if err := d.runOnboot(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		d.log.Error("onboot", "err", err)
		d.console("ros: onboot: %v", err)
	}
	client, err := d.connect(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer client.Close()
	m := newManager(d, ctx, client)
	m.onRun = ready.set
	for _, b := range set.bundles {
		m.add(b, set.origin[b.Name], set.enabled[b.Name])
	}
	m.markAdopted(taskPIDs(ctx, client, opts.Namespace))
	d.restart = func(ctx context.Context, name string) error {
		st, err := m.status(name)
		if err != nil || st.State == api.StateDisabled || st.State == api.StateStopped {
			return nil
		}
		d.log.Info("restarting for its new config", "service", name)
		return m.restart(ctx, name)
	}
	stopAPI, err := d.serveAPI(ctx, &backend{d: d, m: m, client: client, cfg: cfg, images: readBuildImages(opts.Root)})
	if err != nil {
		d.log.Error("API", "err", err)
		d.console("ros: API: %v", err)
	} else {
		defer stopAPI()
	}
	go cfg.network(ctx, network, opts.NetworkDeadline)
	go d.autoInstall(ctx)
	err = d.runServices(ctx, m)
	_, _ = sd.SdNotify(false, sd.SdNotifyStopping)
	return err
}

// connect waits for containerd to answer on its socket.
func (d *daemon) connect(ctx context.Context) (*containerd.Client, error) {
	start := time.Now()
	logged := false
	for {
		client, err := containerd.New(d.opts.Address, containerd.WithTimeout(2*time.Second))
		if err == nil {
			ok, serr := client.IsServing(ctx)
			if ok {
				d.log.Info("containerd ready", "address", d.opts.Address, "waited", time.Since(start).Round(time.Millisecond))
				return client, nil
			}
			err = serr
			client.Close()
		}
		if !logged && time.Since(start) > 5*time.Second {
			d.log.Warn("waiting for containerd", "address", d.opts.Address, "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to containerd at %s: %w", d.opts.Address, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// console writes one line to the console and never fails.
func (d *daemon) console(format string, args ...any) {
	d.conMu.Lock()
	defer d.conMu.Unlock()
	fmt.Fprintf(d.conOut, format+"\n", args...)
}
