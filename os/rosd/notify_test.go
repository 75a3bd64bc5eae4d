package rosd

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/ros-os/ros/pkg/supervisor"
)

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestReadServiceOpts(t *testing.T) {
	tests := []struct {
		name, config string
		want         serviceOpts
		wantErr      bool
	}{
		{"none", `{}`, serviceOpts{interval: defaultHealthInterval}, false},
		{"all", `{"annotations":{"org.ros.notify":"true","org.ros.after":"dhcp, ntpd","org.ros.health.cmd":"wget -q -O- localhost","org.ros.health.interval":"5s"}}`,
			serviceOpts{notify: true, after: []string{"dhcp", "ntpd"}, health: "wget -q -O- localhost", interval: 5 * time.Second}, false},
		{"bad interval", `{"annotations":{"org.ros.health.interval":"often"}}`, serviceOpts{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readServiceOpts(dir)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("readServiceOpts(%s) = %+v, want an error", tt.config, got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("readServiceOpts(%s) = %+v, %v, want %+v", tt.config, got, err, tt.want)
			}
		})
	}
}

// The server side of sd_notify against go-systemd's client side.
func TestNotifySocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify", "svc")
	n, err := listenNotify(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan map[string]string, 1)
	go n.serve(ctx, func(m map[string]string) { got <- m })
	t.Setenv("NOTIFY_SOCKET", path)
	if ok, err := sd.SdNotify(false, "READY=1\nSTATUS=up"); !ok || err != nil {
		t.Fatalf("SdNotify = %v, %v", ok, err)
	}
	select {
	case m := <-got:
		if m["READY"] != "1" || m["STATUS"] != "up" {
			t.Errorf("message = %v, want READY=1 STATUS=up", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
}

// The sockets rosd makes for a service are 0666 in a root-only directory,
// also when the directory was there before with a looser mode.
func TestSocketModes(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "notify"), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := listenNotify(filepath.Join(dir, "notify", "svc"))
	if err != nil {
		t.Fatal(err)
	}
	defer n.conn.Close()
	a, err := newActivator(t.Context(), [][2]string{{"tcp", "127.0.0.1:0"}}, filepath.Join(dir, "activate", "svc"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for _, tt := range []struct {
		path string
		want os.FileMode
	}{
		{"notify", os.ModeDir | 0o700},
		{"notify/svc", os.ModeSocket | 0o666},
		{"activate", os.ModeDir | 0o700},
		{"activate/svc", os.ModeSocket | 0o666},
	} {
		fi, err := os.Stat(filepath.Join(dir, tt.path))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModeType | os.ModePerm); got != tt.want {
			t.Errorf("mode of %s = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// A service ordered after a notifying one starts only once that one said
// READY=1, and the ready line hears about it.
func TestOrderingWaitsForNotify(t *testing.T) {
	d := &daemon{log: slogDiscard(), conOut: io.Discard}
	m := newManager(d, context.Background(), nil)
	m.svcs["db"] = &service{opts: serviceOpts{notify: true}, state: supervisor.StateRunning}
	m.svcs["web"] = &service{opts: serviceOpts{after: []string{"db", "not-in-image"}}}
	var readyCalls []string
	m.onRun = func(name string, ready bool) {
		if ready {
			readyCalls = append(readyCalls, name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	started := make(chan bool, 1)
	go func() { started <- m.waitReady(ctx, "web", []string{"db", "not-in-image"}) }()
	select {
	case <-started:
		t.Fatal("web started before db was ready")
	case <-time.After(500 * time.Millisecond):
	}
	if st, _ := m.status("db"); st.State != "starting" {
		t.Errorf("db state before READY=1 = %s, want starting", st.State)
	}
	m.notified("db", map[string]string{"STATUS": "loading"})
	m.notified("db", map[string]string{"READY": "1"})
	select {
	case ok := <-started:
		if !ok {
			t.Fatal("waitReady = false, want true")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("web did not start after db's READY=1")
	}
	if st, _ := m.status("db"); st.State != "running" {
		t.Errorf("db state after READY=1 = %s, want running", st.State)
	}
	if len(readyCalls) != 1 || readyCalls[0] != "db" {
		t.Errorf("ready reported for %v, want [db]", readyCalls)
	}
	// An exit makes it not ready again.
	m.record(supervisor.Event{Name: "db", State: supervisor.StateExited})
	if r, _ := m.isReady("db"); r {
		t.Error("db ready after it exited")
	}
}

// After a rosd restart, a notifying service whose task kept running told
// the previous rosd it was ready: adopting it counts as ready.
func TestAdoptedNotifyServiceIsReady(t *testing.T) {
	d := &daemon{log: slogDiscard(), conOut: io.Discard}
	m := newManager(d, context.Background(), nil)
	m.svcs["db"] = &service{opts: serviceOpts{notify: true}}
	m.svcs["fresh"] = &service{opts: serviceOpts{notify: true}}
	m.markAdopted(map[string]uint32{"db": 42, "not-a-service": 7})
	m.record(supervisor.Event{Name: "db", State: supervisor.StateRunning})
	m.record(supervisor.Event{Name: "fresh", State: supervisor.StateRunning})
	if r, _ := m.isReady("db"); !r {
		t.Error("adopted db not ready")
	}
	if r, _ := m.isReady("fresh"); r {
		t.Error("fresh notifying service ready before READY=1")
	}
	// A restart of the adopted one waits for READY=1 again.
	m.record(supervisor.Event{Name: "db", State: supervisor.StateExited})
	m.record(supervisor.Event{Name: "db", State: supervisor.StateRunning})
	if r, _ := m.isReady("db"); r {
		t.Error("db ready after a restart without READY=1")
	}
}
