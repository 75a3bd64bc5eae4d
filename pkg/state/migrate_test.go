package state

import (
	"context"
	"testing"
)

// TestMigrateForward opens a store at version N-1 (made by the earlier
// migrations), writes to it, then opens it with every migration: the schema
// reaches N and the old data is intact.
func TestMigrateForward(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n := len(migrations)
	s := openT(t, dir, withMigrations(migrations[:n-1]))
	if v, err := s.SchemaVersion(ctx); err != nil || v != n-1 {
		t.Fatalf("SchemaVersion() of the old store = %d, %v, want %d", v, err, n-1)
	}
	if _, err := s.AddEvent(ctx, "boot", "ros", "old schema"); err != nil {
		t.Fatalf("AddEvent on the old schema = %v", err)
	}
	mustDo(t, "Put", s.Put(ctx, "engine", []byte("docker")))
	closeT(t, s)

	s = openT(t, dir)
	defer closeT(t, s)
	if v, err := s.SchemaVersion(ctx); err != nil || v != n {
		t.Errorf("SchemaVersion() after migration = %d, %v, want %d", v, err, n)
	}
	if ev, err := s.Events(ctx, 0, 0); err != nil || len(ev) != 1 || ev[0].Message != "old schema" {
		t.Errorf("Events(0, 0) after migration = %+v, %v, want the old event", ev, err)
	}
	if v, err := s.Get(ctx, "engine"); err != nil || string(v) != "docker" {
		t.Errorf("Get(engine) after migration = %q, %v, want docker", v, err)
	}
	// The last step's table works.
	if _, err := s.AddUpgrade(ctx, Upgrade{Version: "v2", Slot: "B", Status: "trial"}); err != nil {
		t.Errorf("AddUpgrade after migration = %v", err)
	}
	// Every step is recorded once.
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil || rows != n {
		t.Errorf("schema_version rows = %d, %v, want %d", rows, err, n)
	}
}

// TestNewerSchema: after a fallback to an older ros, a schema migrated by a
// newer one still opens and the known tables work.
func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	newer := append(append([]migration(nil), migrations...), migration{"future", []string{`CREATE TABLE future (x INTEGER)`}})
	s := openT(t, dir, withMigrations(newer))
	mustDo(t, "Put", s.Put(ctx, "k", []byte("v")))
	closeT(t, s)

	s = openT(t, dir)
	defer closeT(t, s)
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(newer) {
		t.Errorf("SchemaVersion() = %d, %v, want %d (the newer schema, untouched)", v, err, len(newer))
	}
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Errorf("Get(k) = %q, %v, want v", v, err)
	}
}

// TestMigrationsWellFormed: every step has a name and statements.
func TestMigrationsWellFormed(t *testing.T) {
	for i, m := range migrations {
		if m.name == "" || len(m.stmts) == 0 {
			t.Errorf("migrations[%d] = %+v, want a name and statements", i, m)
		}
	}
}
