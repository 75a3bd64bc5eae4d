package state

import (
	"context"
	"path/filepath"
	"testing"
)

// TestReopen is a reboot: everything written before Close is there after
// the store is opened again from the same directory.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	s := openT(t, dir)
	cfgID, err := s.AddConfig(ctx, ConfigRecord{Source: "nocloud", Status: StatusApplied, Warnings: []string{"w"}, UserData: []byte("u"), Config: []byte("c")})
	if err != nil {
		t.Fatalf("AddConfig = %v", err)
	}
	evID, err := s.AddEvent(ctx, "boot", "ros", "booted")
	if err != nil {
		t.Fatalf("AddEvent = %v", err)
	}
	mustDo(t, "SetServiceEnabled", s.SetServiceEnabled(ctx, "docker", false))
	mustDo(t, "PutService", s.PutService(ctx, "hello", []byte("name: hello\n")))
	mustDo(t, "Put", s.Put(ctx, "instance-id", []byte("i-123")))
	if _, err := s.AddUpgrade(ctx, Upgrade{Version: "v2", Slot: "B", Status: "trial"}); err != nil {
		t.Fatalf("AddUpgrade = %v", err)
	}
	closeT(t, s)

	for round := 1; round <= 2; round++ {
		s = openT(t, dir)
		last, err := s.LastApplied(ctx)
		if err != nil || last.ID != cfgID || string(last.UserData) != "u" || string(last.Config) != "c" || len(last.Warnings) != 1 {
			t.Errorf("round %d: LastApplied() = %+v, %v, want record %d", round, last, err, cfgID)
		}
		if ev, err := s.Events(ctx, 0, 0); err != nil || len(ev) != round || ev[0].ID != evID || ev[0].Message != "booted" {
			t.Errorf("round %d: Events(0, 0) = %+v, %v, want the boot event and %d more", round, ev, err, round-1)
		}
		if o, err := s.ServiceOverrides(ctx); err != nil || len(o) != 1 || o["docker"] {
			t.Errorf("round %d: ServiceOverrides() = %v, %v, want docker disabled", round, o, err)
		}
		if a, err := s.AddedServices(ctx); err != nil || string(a["hello"]) != "name: hello\n" {
			t.Errorf("round %d: AddedServices() = %v, %v, want hello", round, a, err)
		}
		if v, err := s.Get(ctx, "instance-id"); err != nil || string(v) != "i-123" {
			t.Errorf("round %d: Get(instance-id) = %q, %v, want i-123", round, v, err)
		}
		if u, err := s.Upgrades(ctx, 0); err != nil || len(u) != 1 || u[0].Version != "v2" {
			t.Errorf("round %d: Upgrades(0) = %+v, %v, want v2", round, u, err)
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v != Version() {
			t.Errorf("round %d: SchemaVersion() = %d, %v, want %d", round, v, err, Version())
		}
		// New IDs continue after the old ones.
		if id, err := s.AddEvent(ctx, "boot", "ros", "again"); err != nil || id <= evID {
			t.Errorf("round %d: AddEvent after reopen = %d, %v, want an ID above %d", round, id, err, evID)
		}
		closeT(t, s)
	}
}

// TestOpenTwice: a second Open of a directory in use fails instead of
// running two nodes over the same files.
func TestOpenTwice(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	defer closeT(t, s)
	s2, err := Open(context.Background(), dir)
	if err == nil {
		s2.Close()
		t.Fatalf("Open(%s) while open = nil error, want an error", dir)
	}
	t.Logf("Open(%s) while open = %v", dir, err)
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v", what, err)
	}
}
