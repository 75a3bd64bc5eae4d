package state

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// migration is one forward step of the schema. Steps are append-only and
// additive (new tables, new columns with defaults, new indexes): an older
// ros booted after a fallback from an upgraded slot opens the newer schema
// and keeps working with the tables it knows.
type migration struct {
	name  string
	stmts []string
}

// migrations is the ordered schema history: migrations[i] takes the schema
// from version i to version i+1. Never edit or reorder a released step;
// append a new one.
var migrations = []migration{
	{"core tables", []string{
		`CREATE TABLE configs (
			id        INTEGER PRIMARY KEY AUTOINCREMENT,
			time      INTEGER NOT NULL,
			source    TEXT    NOT NULL,
			status    TEXT    NOT NULL,
			error     TEXT    NOT NULL DEFAULT '',
			warnings  TEXT    NOT NULL DEFAULT '[]',
			user_data BLOB,
			config    BLOB)`,
		`CREATE INDEX configs_status ON configs (status, id)`,
		`CREATE TABLE events (
			id      INTEGER PRIMARY KEY AUTOINCREMENT,
			time    INTEGER NOT NULL,
			kind    TEXT    NOT NULL,
			subject TEXT    NOT NULL,
			message TEXT    NOT NULL)`,
		`CREATE TABLE service_overrides (
			name    TEXT PRIMARY KEY,
			enabled INTEGER NOT NULL,
			time    INTEGER NOT NULL)`,
		`CREATE TABLE services (
			name       TEXT PRIMARY KEY,
			definition BLOB    NOT NULL,
			time       INTEGER NOT NULL)`,
		`CREATE TABLE kv (
			key   TEXT PRIMARY KEY,
			value BLOB NOT NULL)`,
	}},
	{"upgrade history", []string{
		`CREATE TABLE upgrades (
			id      INTEGER PRIMARY KEY AUTOINCREMENT,
			time    INTEGER NOT NULL,
			version TEXT    NOT NULL,
			slot    TEXT    NOT NULL,
			status  TEXT    NOT NULL)`,
	}},
	{"upgrade messages", []string{
		`ALTER TABLE upgrades ADD COLUMN message TEXT NOT NULL DEFAULT ''`,
	}},
}

// Version is the schema version this build migrates to.
func Version() int { return len(migrations) }

const createSchemaVersion = `CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER PRIMARY KEY,
	name    TEXT    NOT NULL,
	time    INTEGER NOT NULL)`

// migrate applies the steps of m the database has not seen, each in its
// own transaction together with its schema_version row.
func migrate(ctx context.Context, db *sql.DB, m []migration, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, createSchemaVersion); err != nil {
		return fmt.Errorf("migrate: create schema_version: %w", err)
	}
	v, err := schemaVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if v > len(m) {
		log.Warn("state schema is newer than this ros: using the tables it knows", "schema", v, "known", len(m))
		return nil
	}
	for i := v; i < len(m); i++ {
		if err := apply(ctx, db, i+1, m[i]); err != nil {
			return fmt.Errorf("migrate to version %d (%s): %w", i+1, m[i].name, err)
		}
		log.Info("state schema migrated", "version", i+1, "step", m[i].name)
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, version int, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, time) VALUES (?, ?, ?)`,
		version, m.name, unixNano(now())); err != nil {
		return err
	}
	return tx.Commit()
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion returns the version of the database's schema (Version()
// after Open, or more if a newer ros migrated it).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.db)
}
