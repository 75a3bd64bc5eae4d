package rosd

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/supervisor"
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

	state    supervisor.State
	stopped  bool // not running because it was stopped or never started
	restarts int
	since    time.Time
	lastErr  string
	pid      uint32

	cancel context.CancelFunc // stops the supervising goroutine
	done   chan struct{}      // closed when that goroutine returns
}

// serviceStatus is a snapshot of a service for the API.
type serviceStatus struct {
	Name, Origin, State, LastError string
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

	mu    sync.Mutex
	svcs  map[string]*service
	order []string // start order: image services as listed, then added ones
}

func newManager(d *daemon, ctx context.Context, client *containerd.Client) *manager {
	return &manager{d: d, client: client, parent: ctx, svcs: map[string]*service{}}
}

// add registers a service without starting it.
func (m *manager) add(b containers.Bundle, origin string, enabled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.svcs[b.Name]; !ok {
		m.order = append(m.order, b.Name)
	}
	m.svcs[b.Name] = &service{bundle: b, origin: origin, enabled: enabled, stopped: true, state: supervisor.StateStopped}
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
	task := &containers.Task{
		Client:    m.client,
		Namespace: m.d.opts.Namespace,
		Bundle:    s.bundle,
		Tree:      m.d.opts.Root,
		LogPath:   filepath.Join(m.d.opts.LogDir, name+".log"),
		Grace:     m.d.opts.Grace,
		Log:       m.d.log,
	}
	ctx, cancel := context.WithCancel(m.parent)
	done := make(chan struct{})
	s.cancel, s.done, s.stopped = cancel, done, false
	s.state, s.since = supervisor.StateStarting, time.Now()
	policy := supervisor.Policy{Backoff: m.d.opts.Backoff, OnEvent: func(e supervisor.Event) { m.record(e) }}
	go func() {
		defer close(done)
		_ = supervisor.Supervise(ctx, task, policy)
	}()
	return nil
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
	}
	onRun := m.onRun
	m.mu.Unlock()
	m.d.event(e)
	if onRun != nil {
		onRun(e.Name, e.State == supervisor.StateRunning)
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
		s.state, s.since = supervisor.StateStopped, time.Now()
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
	return serviceStatus{
		Name: name, Origin: s.origin, State: state, LastError: s.lastErr,
		Enabled: s.enabled, Restarts: s.restarts, Since: s.since, Bundle: s.bundle,
	}
}

// names returns the names of the services, sorted, for messages.
func (m *manager) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]string(nil), m.order...)
	sort.Strings(out)
	return out
}

func (m *manager) logger() *slog.Logger { return m.d.log }
