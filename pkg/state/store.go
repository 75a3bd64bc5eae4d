// Package state is the machine's persistent store: applied configs, service
// overrides and added services, events, upgrade history and a small
// key-value table, in an embedded dqlite database (one node by default)
// under /var/lib/ros/db on ROS_STATE. The schema is migrated forward by
// Open.
//
// The node listens on an abstract Unix socket ("@ros-state-<hash of dir>"),
// never on the network: dqlite accepts connections on such a socket only
// from its own process. Binding that name is also the lock that keeps two
// processes from opening the same store.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Sentinel errors, wrapped with context.
var (
	// ErrNotFound: a key, service or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: this ros was built without cgo, so without dqlite.
	ErrUnavailable = errors.New("state store unavailable: built without cgo (dqlite)")
)

// DefaultDir is the store's data directory on the machine (ROS_STATE).
const DefaultDir = "/var/lib/ros/db"

// Retention: the oldest rows beyond these counts are deleted on insert.
const (
	keepEvents  = 10000
	keepConfigs = 100
)

// Store is an open state database. Its methods are safe for concurrent use.
type Store struct {
	node node
	db   *sql.DB
	dir  string
	log  *slog.Logger
}

// node is the database engine under the store: a dqlite node (cgo builds)
// or nothing (ErrUnavailable without cgo).
type node interface {
	// open waits until the node serves and opens the database.
	open(ctx context.Context) (*sql.DB, error)
	Close() error
}

// Option tunes Open.
type Option func(*options)

type options struct {
	log        *slog.Logger
	migrations []migration
}

// WithLogger sends dqlite's own warnings and errors, and migration
// progress, to log (default: discarded).
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.log = log }
}

// withMigrations replaces the migration list (tests: build an old schema).
func withMigrations(m []migration) Option {
	return func(o *options) { o.migrations = m }
}

// Open starts the single dqlite node whose data lives in dir (created if
// missing), opens the database and migrates its schema forward. ctx bounds
// the start; the store lives until Close.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	o := &options{log: slog.New(slog.NewTextHandler(io.Discard, nil)), migrations: migrations}
	for _, opt := range opts {
		opt(o)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open state %s: %w", dir, err)
	}
	n, err := startNode(abs, o.log)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", dir, err)
	}
	s := &Store{node: n, dir: abs, log: o.log}
	if err := s.start(ctx, o.migrations); err != nil {
		n.Close()
		return nil, fmt.Errorf("open state %s: %w", dir, err)
	}
	return s, nil
}

func (s *Store) start(ctx context.Context, m []migration) error {
	db, err := s.node.open(ctx)
	if err != nil {
		return err
	}
	s.db = db
	if err := migrate(ctx, db, m, s.log); err != nil {
		db.Close()
		s.db = nil
		return err
	}
	return nil
}

// Close closes the database and stops the node. Data is on disk as soon as
// each write returns; Close only releases resources.
func (s *Store) Close() error {
	var errs []error
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.node.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close state %s: %w", s.dir, err)
	}
	return nil
}

// Dir returns the absolute data directory.
func (s *Store) Dir() string { return s.dir }

// now is the time stored with new rows.
func now() time.Time { return time.Now().UTC() }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		t = now()
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time { return time.Unix(0, n).UTC() }
