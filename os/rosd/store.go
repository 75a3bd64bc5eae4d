package rosd

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ros-os/ros/pkg/state"
)

// stateStore is what rosd keeps on ROS_STATE (pkg/state.Store).
type stateStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
	AddConfig(ctx context.Context, r state.ConfigRecord) (int64, error)
	ConfigHistory(ctx context.Context, limit int) ([]state.ConfigRecord, error)
	AddEvent(ctx context.Context, kind, subject, message string) (int64, error)
	Events(ctx context.Context, since int64, limit int) ([]state.Event, error)
	SetServiceEnabled(ctx context.Context, name string, enabled bool) error
	ServiceOverrides(ctx context.Context) (map[string]bool, error)
	PutService(ctx context.Context, name string, definition []byte) error
	DeleteService(ctx context.Context, name string) error
}

var _ stateStore = (*state.Store)(nil)

// noStore stands in when the database cannot be opened: rosd still runs
// the services, and every operation that needs the database says why it
// cannot.
type noStore struct{ err error }

func (n noStore) fail() error { return fmt.Errorf("state database unavailable: %w", n.err) }

func (n noStore) Get(context.Context, string) ([]byte, error) { return nil, n.fail() }
func (n noStore) Put(context.Context, string, []byte) error   { return n.fail() }
func (n noStore) AddConfig(context.Context, state.ConfigRecord) (int64, error) {
	return 0, n.fail()
}
func (n noStore) ConfigHistory(context.Context, int) ([]state.ConfigRecord, error) {
	return nil, n.fail()
}
func (n noStore) AddEvent(context.Context, string, string, string) (int64, error) {
	return 0, n.fail()
}
func (n noStore) Events(context.Context, int64, int) ([]state.Event, error) { return nil, n.fail() }
func (n noStore) SetServiceEnabled(context.Context, string, bool) error     { return n.fail() }
func (n noStore) ServiceOverrides(context.Context) (map[string]bool, error) {
	return nil, n.fail()
}
func (n noStore) PutService(context.Context, string, []byte) error { return n.fail() }
func (n noStore) DeleteService(context.Context, string) error      { return n.fail() }

// openStore opens the database under DataDir, or a noStore saying why not.
func (d *daemon) openStore(ctx context.Context) (stateStore, func()) {
	s, err := state.Open(ctx, filepath.Join(d.opts.DataDir, "db"), state.WithLogger(d.log))
	if err != nil {
		d.log.Error("state database", "err", err)
		d.console("ros: state database: %v (config history, service overrides and events are not kept)", err)
		return noStore{err}, func() {}
	}
	return s, func() {
		if err := s.Close(); err != nil {
			d.log.Warn("close state database", "err", err)
		}
	}
}

// record adds an event to the event log; failures are only logged.
func (d *daemon) record(ctx context.Context, kind, subject, message string) {
	if _, ok := d.store.(noStore); ok {
		return
	}
	if _, err := d.store.AddEvent(ctx, kind, subject, message); err != nil {
		d.log.Warn("event log", "err", err)
	}
}
