package state

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func openT(t *testing.T, dir string, opts ...Option) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, dir, opts...)
	if errors.Is(err, ErrUnavailable) {
		t.Skip("needs cgo (dqlite)")
	}
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	return s
}

func closeT(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestOpenSchemaVersion(t *testing.T) {
	s := openT(t, t.TempDir())
	defer closeT(t, s)
	v, err := s.SchemaVersion(context.Background())
	if err != nil || v != Version() || v != len(migrations) {
		t.Errorf("SchemaVersion() = %d, %v, want %d", v, err, len(migrations))
	}
}

func TestConfigs(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	defer closeT(t, s)

	if _, err := s.LastApplied(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastApplied(empty) = %v, want ErrNotFound", err)
	}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	in := []ConfigRecord{
		{Time: t0, Source: "nocloud", Status: StatusApplied, UserData: []byte("#cloud-config\nhostname: a\n"), Config: []byte("hostname: a\n")},
		{Time: t0.Add(time.Second), Source: "ros config set", Status: StatusApplied, Warnings: []string{"unknown key x", "unknown key y"}, Config: []byte("hostname: b\n")},
		{Time: t0.Add(2 * time.Second), Source: "ec2", Status: StatusRejected, Error: "line 3: hostname: not a string", UserData: []byte{0, 1, 2}},
	}
	var ids []int64
	for _, r := range in {
		id, err := s.AddConfig(ctx, r)
		if err != nil {
			t.Fatalf("AddConfig(%s) = %v", r.Source, err)
		}
		ids = append(ids, id)
	}
	if ids[0] >= ids[1] || ids[1] >= ids[2] {
		t.Errorf("AddConfig IDs = %v, want increasing", ids)
	}
	want := make([]ConfigRecord, len(in))
	for i, r := range in {
		r.ID = ids[i]
		if r.UserData == nil {
			r.UserData = []byte{}
		}
		if r.Config == nil {
			r.Config = []byte{}
		}
		want[len(in)-1-i] = r // newest first
	}
	for _, tc := range []struct {
		limit int
		want  []ConfigRecord
	}{
		{0, want},
		{-1, want},
		{2, want[:2]},
		{10, want},
	} {
		got, err := s.ConfigHistory(ctx, tc.limit)
		if err != nil {
			t.Fatalf("ConfigHistory(%d) = %v", tc.limit, err)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("ConfigHistory(%d) mismatch (-want +got):\n%s", tc.limit, d)
		}
	}
	last, err := s.LastApplied(ctx)
	if err != nil || last.ID != ids[1] || string(last.Config) != "hostname: b\n" {
		t.Errorf("LastApplied() = %+v, %v, want record %d", last, err, ids[1])
	}
}

func TestConfigRetention(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	defer closeT(t, s)
	var last int64
	for i := 0; i < keepConfigs+5; i++ {
		id, err := s.AddConfig(ctx, ConfigRecord{Source: "test", Status: StatusApplied})
		if err != nil {
			t.Fatalf("AddConfig #%d = %v", i, err)
		}
		last = id
	}
	got, err := s.ConfigHistory(ctx, 0)
	if err != nil || len(got) != keepConfigs || got[0].ID != last || got[len(got)-1].ID != last-keepConfigs+1 {
		t.Errorf("ConfigHistory(0) after %d adds = %d records, %v, want the newest %d", keepConfigs+5, len(got), err, keepConfigs)
	}
}

func TestEvents(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	defer closeT(t, s)
	if got, err := s.Events(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Errorf("Events(empty) = %v, %v, want none", got, err)
	}
	before := time.Now().Add(-time.Second)
	var ids []int64
	for i, subj := range []string{"a", "b", "c", "d", "e"} {
		id, err := s.AddEvent(ctx, "service", subj, "started "+subj)
		if err != nil {
			t.Fatalf("AddEvent #%d = %v", i, err)
		}
		ids = append(ids, id)
	}
	subjects := func(ev []Event) string {
		var s string
		for _, e := range ev {
			s += e.Subject
		}
		return s
	}
	for _, tc := range []struct {
		since int64
		limit int
		want  string
	}{
		{0, 0, "abcde"},
		{0, 2, "de"},      // newest two, in order
		{-1, 3, "cde"},    //
		{ids[0], 2, "bc"}, // first two after a
		{ids[1], 0, "cde"},
		{ids[4], 0, ""},
	} {
		got, err := s.Events(ctx, tc.since, tc.limit)
		if err != nil {
			t.Fatalf("Events(%d, %d) = %v", tc.since, tc.limit, err)
		}
		if subjects(got) != tc.want {
			t.Errorf("Events(%d, %d) = %q, want %q", tc.since, tc.limit, subjects(got), tc.want)
		}
	}
	got, _ := s.Events(ctx, 0, 1)
	if len(got) != 1 || got[0].Kind != "service" || got[0].Message != "started e" || got[0].Time.Before(before) || got[0].Time.After(time.Now().Add(time.Second)) {
		t.Errorf("Events(0, 1) = %+v, want the event of e stamped now", got)
	}
}

func TestServices(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	defer closeT(t, s)

	for _, step := range []struct {
		name    string
		enabled bool
	}{{"docker", false}, {"ntpd", true}, {"docker", true}, {"sshd", false}} {
		if err := s.SetServiceEnabled(ctx, step.name, step.enabled); err != nil {
			t.Fatalf("SetServiceEnabled(%s, %t) = %v", step.name, step.enabled, err)
		}
	}
	if err := s.ClearServiceOverride(ctx, "ntpd"); err != nil {
		t.Fatalf("ClearServiceOverride(ntpd) = %v", err)
	}
	if err := s.ClearServiceOverride(ctx, "never-set"); err != nil {
		t.Errorf("ClearServiceOverride(never-set) = %v, want nil", err)
	}
	got, err := s.ServiceOverrides(ctx)
	if d := cmp.Diff(map[string]bool{"docker": true, "sshd": false}, got); err != nil || d != "" {
		t.Errorf("ServiceOverrides() = %v, %v; mismatch (-want +got):\n%s", got, err, d)
	}

	defs := map[string][]byte{
		"hello": []byte("name: hello\nimage: hello:1\n"),
		"web":   []byte("name: web\nimage: nginx\n"),
	}
	for name, def := range defs {
		if err := s.PutService(ctx, name, def); err != nil {
			t.Fatalf("PutService(%s) = %v", name, err)
		}
	}
	defs["web"] = []byte("name: web\nimage: nginx:2\n")
	if err := s.PutService(ctx, "web", defs["web"]); err != nil {
		t.Fatalf("PutService(web) again = %v", err)
	}
	if err := s.PutService(ctx, "tmp", []byte("name: tmp\n")); err != nil {
		t.Fatalf("PutService(tmp) = %v", err)
	}
	if err := s.DeleteService(ctx, "tmp"); err != nil {
		t.Errorf("DeleteService(tmp) = %v", err)
	}
	if err := s.DeleteService(ctx, "tmp"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteService(tmp) twice = %v, want ErrNotFound", err)
	}
	added, err := s.AddedServices(ctx)
	if d := cmp.Diff(defs, added); err != nil || d != "" {
		t.Errorf("AddedServices() = %v; mismatch (-want +got):\n%s", err, d)
	}
}

func TestKV(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	defer closeT(t, s)
	for _, tc := range []struct {
		op, key, value string
		want           string
		wantErr        error
	}{
		{"get", "engine", "", "", ErrNotFound},
		{"put", "engine", "docker", "", nil},
		{"get", "engine", "", "docker", nil},
		{"put", "engine", "none", "", nil},
		{"get", "engine", "", "none", nil},
		{"put", "empty", "", "", nil},
		{"get", "empty", "", "", nil},
		{"delete", "engine", "", "", nil},
		{"delete", "engine", "", "", nil},
		{"get", "engine", "", "", ErrNotFound},
	} {
		var (
			got []byte
			err error
		)
		switch tc.op {
		case "get":
			got, err = s.Get(ctx, tc.key)
		case "put":
			err = s.Put(ctx, tc.key, []byte(tc.value))
		case "delete":
			err = s.Delete(ctx, tc.key)
		}
		if !errors.Is(err, tc.wantErr) || string(got) != tc.want {
			t.Errorf("%s(%q, %q) = %q, %v, want %q, %v", tc.op, tc.key, tc.value, got, err, tc.want, tc.wantErr)
		}
		if tc.op == "get" && err == nil && got == nil {
			t.Errorf("Get(%q) = nil, want a non-nil empty value", tc.key)
		}
	}
}

func TestUpgrades(t *testing.T) {
	ctx := context.Background()
	s := openT(t, t.TempDir())
	defer closeT(t, s)
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	in := []Upgrade{
		{Time: t0, Version: "v1.1", Slot: "B", Status: "trial"},
		{Time: t0.Add(time.Minute), Version: "v1.1", Slot: "B", Status: "failed", Message: "slot B did not boot"},
	}
	for i := range in {
		id, err := s.AddUpgrade(ctx, in[i])
		if err != nil {
			t.Fatalf("AddUpgrade(%+v) = %v", in[i], err)
		}
		in[i].ID = id
	}
	got, err := s.Upgrades(ctx, 0)
	if d := cmp.Diff([]Upgrade{in[1], in[0]}, got); err != nil || d != "" {
		t.Errorf("Upgrades(0) = %v; mismatch (-want +got):\n%s", err, d)
	}
	if got, _ := s.Upgrades(ctx, 1); len(got) != 1 || got[0].Status != "failed" {
		t.Errorf("Upgrades(1) = %+v, want the newest", got)
	}
}

func TestUnavailableWithoutCGO(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir())
	if err == nil {
		s.Close()
		t.Skip("built with cgo: dqlite is available")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Open() without dqlite = %v, want ErrUnavailable", err)
	}
}
