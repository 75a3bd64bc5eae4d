package rosd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/supervisor"
	"github.com/ros-os/ros/pkg/tasks"
)

// Origins of a service: containers/services/ of the booted image, or
// added by `ros service add` or cloud-config and kept on ROS_STATE.
const (
	originImage = api.OriginImage
	originAdded = api.OriginAdded
)

// service is one supervised service and what is known of it.
type service struct {
	bundle  containers.Bundle
	origin  string
	enabled bool
	opts    serviceOpts
	notify  *notifySocket // when opts.notify, made at the first start
	sockets *activator    // when opts.listen, made at the first start

	ready bool // running, and said READY=1 if it notifies
	// adopted: its task was running before this rosd started (a rosd
	// restart). It said READY=1 to the previous rosd, so its first
	// running state counts as ready.
	adopted   bool
	health    string
	healthOut string

	state    supervisor.State
	stopped  bool // not running because it was stopped or never started
	restarts int
	since    time.Time
	lastErr  string

	cancel context.CancelFunc // stops the supervising goroutine
	done   chan struct{}      // closed when that goroutine returns
}

// serviceStatus is a snapshot of a service for the API.
type serviceStatus struct {
	Name, Origin, State, LastError string
	Health, HealthOutput           string
	Enabled                        bool
	Restarts                       int
	Since                          time.Time
	Bundle                         containers.Bundle
}

// manager runs each service under its own supervisor so that services can
// be started and stopped one by one while rosd runs.
type manager struct {
	d      *daemon
	client *containerd.Client
	parent context.Context // rosd's run context: cancelling it stops (or detaches) everything
	onRun  func(name string, running bool)
	// oomScoreAdj is given to services whose YAML sets none; 0 leaves
	// them at the kernel's default (rosd cannot lower scores).
	oomScoreAdj int

	mu    sync.Mutex
	svcs  map[string]*service
	order []string // start order: image services as listed, then added ones
}

func newManager(d *daemon, ctx context.Context, client *containerd.Client) *manager {
	m := &manager{d: d, client: client, parent: ctx, svcs: map[string]*service{}}
	if supervisor.CanLowerOOMScore() {
		m.oomScoreAdj = ServiceOOMScoreAdj
	} else {
		d.log.Warn("services keep oom_score_adj 0: rosd lacks CAP_SYS_RESOURCE to lower it")
	}
	return m
}

// markAdopted records the services whose tasks are already running.
func (m *manager) markAdopted(running map[string]uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name := range running {
		if s, ok := m.svcs[name]; ok {
			s.adopted = true
		}
	}
}

// add registers a service without starting it.
func (m *manager) add(b containers.Bundle, origin string, enabled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.svcs[b.Name]; !ok {
		m.order = append(m.order, b.Name)
	}
	opts, err := readServiceOpts(b.Path)
	if err != nil {
		m.d.log.Warn("service settings", "service", b.Name, "err", err)
	}
	m.svcs[b.Name] = &service{bundle: b, origin: origin, enabled: enabled, opts: opts, stopped: true, state: supervisor.StateStopped}
}

// forget removes a stopped service from the manager.
func (m *manager) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.svcs, name)
	for i, n := range m.order {
		if n == name {
			m.order = append(m.order[:i:i], m.order[i+1:]...)
			break
		}
	}
}

func (m *manager) get(name string) (*service, error) {
	s, ok := m.svcs[name]
	if !ok {
		return nil, fmt.Errorf("service %q: %w", name, api.ErrNotFound)
	}
	return s, nil
}

// start starts name's supervisor unless it is running already.
func (m *manager) start(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.get(name)
	if err != nil {
		return err
	}
	if s.done != nil {
		return nil
	}
	task := &tasks.Task{
		Client:    m.client,
		Namespace: m.d.opts.Namespace,
		Bundle:    s.bundle,
		Tree:      m.d.opts.Root,
		LogPath:   filepath.Join(m.d.opts.LogDir, name+".log"),
		Grace:     m.d.opts.Grace,
		Log:       m.d.log,
		Runtime:   m.d.opts.Runtime,
	}
	if s.opts.notify {
		if s.notify == nil {
			n, err := listenNotify(filepath.Join(m.d.opts.StateDir, "notify", name))
			if err != nil {
				return fmt.Errorf("start %s: %w", name, err)
			}
			s.notify = n
			go n.serve(m.parent, func(msg map[string]string) { m.notified(name, msg) })
		}
	}
	if len(s.opts.listen) > 0 && s.sockets == nil {
		a, err := newActivator(m.parent, s.opts.listen, filepath.Join(m.d.opts.StateDir, "activate", name))
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		s.sockets = a
	}
	task.Spec = m.specHook(s)
	ctx, cancel := context.WithCancel(m.parent)
	done := make(chan struct{})
	s.cancel, s.done, s.stopped = cancel, done, false
	s.state, s.since = supervisor.StateStarting, time.Now()
	policy := supervisor.Policy{Backoff: m.d.opts.Backoff, OnEvent: func(e supervisor.Event) { m.record(e) }}
	after := s.opts.after
	go func() {
		defer close(done)
		if !m.waitReady(ctx, name, after) {
			return
		}
		_ = supervisor.Supervise(ctx, task, policy)
	}()
	if s.opts.health != "" {
		go m.checkHealth(ctx, name, s.opts.health, s.opts.interval)
	}
	return nil
}

// specHook adds what rosd gives a service's container: the default OOM
// score, the notify socket, the activation wrapper.
func (m *manager) specHook(s *service) func(*specs.Spec) error {
	var hooks []func(*specs.Spec) error
	if m.oomScoreAdj != 0 {
		hooks = append(hooks, withOOMScoreAdj(m.oomScoreAdj))
	}
	if s.notify != nil {
		hooks = append(hooks, withNotify(s.notify.path))
	}
	if s.sockets != nil {
		hooks = append(hooks, withActivation(m.d.opts.Binary, s.sockets.path))
	}
	return func(sp *specs.Spec) error {
		for _, h := range hooks {
			if err := h(sp); err != nil {
				return err
			}
		}
		return nil
	}
}

// record keeps the latest state of a service and passes the event on.
func (m *manager) record(e supervisor.Event) {
	m.mu.Lock()
	if s, ok := m.svcs[e.Name]; ok {
		if s.state != e.State {
			s.since = time.Now()
		}
		s.state, s.restarts = e.State, e.Restarts
		if e.Err != nil {
			s.lastErr = e.Err.Error()
		}
		// A service that notifies is ready when it says so.
		s.ready = e.State == supervisor.StateRunning && (!s.opts.notify || s.adopted)
		s.adopted = false
		if e.State != supervisor.StateRunning {
			s.health, s.healthOut = "", ""
		}
	}
	m.mu.Unlock()
	m.d.event(e)
	m.readyChanged(e.Name)
}

// notified handles an sd_notify message from a service.
func (m *manager) notified(name string, msg map[string]string) {
	if msg["READY"] != "1" {
		return
	}
	m.mu.Lock()
	s, ok := m.svcs[name]
	if ok && s.state == supervisor.StateRunning && !s.ready {
		s.ready = true
		m.d.log.Info("service ready", "service", name, "status", msg["STATUS"])
	}
	m.mu.Unlock()
	m.readyChanged(name)
}

// readyChanged passes a service's readiness on to the ready line.
func (m *manager) readyChanged(name string) {
	m.mu.Lock()
	s, ok := m.svcs[name]
	ready := ok && s.ready
	onRun := m.onRun
	m.mu.Unlock()
	if onRun != nil {
		onRun(name, ready)
	}
}

// isReady reports whether name is ready; unknown services count as ready
// (an ordering on a service this image lacks is not a deadlock).
func (m *manager) isReady(name string) (ready, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.svcs[name]
	if !ok {
		return true, false
	}
	return s.ready, true
}

// waitReady waits until every service of after is ready, or ctx is done
// (false).
func (m *manager) waitReady(ctx context.Context, name string, after []string) bool {
	logged := false
	for {
		var waiting []string
		for _, dep := range after {
			ready, known := m.isReady(dep)
			if !known && !logged {
				m.d.log.Warn("ordering on a service that does not exist", "service", name, "after", dep)
			}
			if !ready {
				waiting = append(waiting, dep)
			}
		}
		if len(waiting) == 0 {
			return true
		}
		if !logged {
			m.d.log.Info("waiting for services to be ready", "service", name, "after", waiting)
			logged = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop stops name's supervisor and waits for its task to be gone.
func (m *manager) stop(ctx context.Context, name string) error {
	m.mu.Lock()
	s, err := m.get(name)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	cancel, done := s.cancel, s.done
	m.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("stop %s: %w", name, ctx.Err())
	}
	m.mu.Lock()
	if s.done == done {
		s.cancel, s.done, s.stopped = nil, nil, true
		s.state, s.since, s.ready = supervisor.StateStopped, time.Now(), false
		s.health, s.healthOut = "", ""
	}
	m.mu.Unlock()
	return nil
}

func (m *manager) restart(ctx context.Context, name string) error {
	if err := m.stop(ctx, name); err != nil {
		return err
	}
	return m.start(name)
}

// setEnabled records whether name starts at boot.
func (m *manager) setEnabled(name string, enabled bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.get(name)
	if err != nil {
		return err
	}
	s.enabled = enabled
	return nil
}

// startEnabled starts every enabled service, in order.
func (m *manager) startEnabled() {
	for _, st := range m.list() {
		if st.Enabled {
			_ = m.start(st.Name)
		}
	}
}

// wait blocks until every supervisor has returned (after the parent
// context is done).
func (m *manager) wait() {
	m.mu.Lock()
	var dones []chan struct{}
	for _, s := range m.svcs {
		if s.done != nil {
			dones = append(dones, s.done)
		}
	}
	m.mu.Unlock()
	for _, d := range dones {
		<-d
	}
}

// list returns a snapshot of every service, in start order.
func (m *manager) list() []serviceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]serviceStatus, 0, len(m.order))
	for _, n := range m.order {
		out = append(out, m.statusLocked(n))
	}
	return out
}

func (m *manager) status(name string) (serviceStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.get(name); err != nil {
		return serviceStatus{}, err
	}
	return m.statusLocked(name), nil
}

func (m *manager) statusLocked(name string) serviceStatus {
	s := m.svcs[name]
	state := s.state.String()
	switch {
	case s.stopped && !s.enabled:
		state = "disabled"
	case s.stopped:
		state = "stopped"
	}
	if state == supervisor.StateRunning.String() && !s.ready {
		state = supervisor.StateStarting.String()
	}
	return serviceStatus{
		Name: name, Origin: s.origin, State: state, LastError: s.lastErr,
		Health: s.health, HealthOutput: s.healthOut,
		Enabled: s.enabled, Restarts: s.restarts, Since: s.since, Bundle: s.bundle,
	}
}

// ServiceOOMScoreAdj is the oom_score_adj of a system service whose YAML
// sets none (oomScoreAdj): the kernel's OOM killer takes user workloads
// (0) first, then services, and containerd and rosd (-999) last.
const ServiceOOMScoreAdj = -900

// withOOMScoreAdj gives a spec that sets no OOM score the score given.
func withOOMScoreAdj(score int) func(*specs.Spec) error {
	return func(s *specs.Spec) error {
		if s.Process == nil {
			return errors.New("no process in spec")
		}
		if s.Process.OOMScoreAdj == nil {
			s.Process.OOMScoreAdj = &score
		}
		return nil
	}
}
