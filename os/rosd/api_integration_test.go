package rosd

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"

	"github.com/ros-os/ros/pkg/api"
)

// syncList collects strings from several goroutines.
type syncList struct {
	mu   sync.Mutex
	list []string
}

func (l *syncList) add(s string) { l.mu.Lock(); l.list = append(l.list, s); l.mu.Unlock() }
func (l *syncList) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.list...)
}

// checkAPI drives a running rosd through its socket, as `ros service …`
// and `ros config …` do.
func checkAPI(t *testing.T, tmp, tree string, tasks func() map[string]containerd.ProcessStatus, hostnames *syncList) {
	t.Helper()
	cl := api.NewClient(filepath.Join(tmp, "ros.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state := func(name string) string {
		d, err := cl.Service(ctx, name)
		if err != nil {
			t.Fatalf("Service(%s): %v", name, err)
		}
		return d.State
	}

	sys, err := cl.System(ctx)
	if err != nil || sys.Version != "v-test" {
		t.Errorf("System() = %+v, %v, want version v-test", sys, err)
	}
	svcs, err := cl.Services(ctx)
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	var names []string
	for _, s := range svcs {
		names = append(names, s.Name+"="+s.State)
		if s.Name == "sleeper" && s.PID == 0 {
			t.Errorf("Services: sleeper has no PID: %+v", s)
		}
	}
	if got := strings.Join(names, " "); got != "flaky=running sleeper=running" {
		t.Errorf("Services() = %s, want flaky=running sleeper=running", got)
	}
	if _, err := cl.Service(ctx, "nope"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("Service(nope) = %v, want ErrNotFound", err)
	}

	// health: the annotation's command runs in the container
	waitFor(t, "sleeper healthy", 30*time.Second, func() bool {
		d, err := cl.Service(ctx, "sleeper")
		return err == nil && d.Health == "healthy"
	})

	// stop, start, restart
	if err := cl.ServiceAction(ctx, "sleeper", api.ActionStop); err != nil {
		t.Fatalf("stop sleeper: %v", err)
	}
	if st := tasks(); st["sleeper"] != "" || state("sleeper") != api.StateStopped {
		t.Errorf("after stop: tasks %v, state %s; want no sleeper, stopped", st, state("sleeper"))
	}
	if err := cl.ServiceAction(ctx, "sleeper", api.ActionStart); err != nil {
		t.Fatalf("start sleeper: %v", err)
	}
	waitFor(t, "sleeper running again", 30*time.Second, func() bool { return state("sleeper") == api.StateRunning })
	before, _ := cl.Service(ctx, "sleeper")
	if err := cl.ServiceAction(ctx, "sleeper", api.ActionRestart); err != nil {
		t.Fatalf("restart sleeper: %v", err)
	}
	waitFor(t, "sleeper running after restart", 30*time.Second, func() bool { return state("sleeper") == api.StateRunning })
	if after, _ := cl.Service(ctx, "sleeper"); after.PID == before.PID || after.PID == 0 {
		t.Errorf("restart: pid %d -> %d, want a new process", before.PID, after.PID)
	}

	// logs and exec
	var logs bytes.Buffer
	if err := cl.Logs(ctx, "sleeper", 1, false, &logs); err != nil || logs.String() != "sleeper up\n" {
		t.Errorf("Logs(sleeper, 1) = %q, %v, want the last line", logs.String(), err)
	}
	var out bytes.Buffer
	code, err := cl.Exec(ctx, "sleeper", api.ExecRequest{Args: []string{"/bin/busybox", "sh", "-c", "echo from-exec; exit 3"}}, &out)
	if err != nil || code != 3 || out.String() != "from-exec\n" {
		t.Errorf("Exec(sleeper) = %d, %q, %v, want 3, from-exec", code, out.String(), err)
	}

	// disable: stopped now, and kept in the database (checkPersisted)
	if err := cl.ServiceAction(ctx, "flaky", api.ActionDisable); err != nil {
		t.Fatalf("disable flaky: %v", err)
	}
	if st := tasks(); st["flaky"] != "" || state("flaky") != api.StateDisabled {
		t.Errorf("after disable: tasks %v, state %s; want no flaky, disabled", st, state("flaky"))
	}

	// add a service from an image archive, then remove it
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	archive := testImageArchive(t, "example.org/added:1", map[string]string{"bin/busybox": string(bb)})
	def := "name: added\nimage: example.org/added:1\ncommand: [/bin/busybox, sh, -c, 'echo added up; exec /bin/busybox sleep 1000']\n"
	if _, err := cl.AddService(ctx, api.AddServiceRequest{Definition: def, Archive: archive}); err != nil {
		t.Fatalf("AddService: %v", err)
	}
	waitFor(t, "added running", 30*time.Second, func() bool { return state("added") == api.StateRunning })
	if d, _ := cl.Service(ctx, "added"); d.Origin != api.OriginAdded || d.Image != "example.org/added:1" {
		t.Errorf("added service = %+v, want origin added, its image", d.Service)
	}
	if err := cl.RemoveService(ctx, "sleeper"); !errors.Is(err, api.ErrConflict) {
		t.Errorf("RemoveService(sleeper, an image service) = %v, want ErrConflict", err)
	}
	if _, err := cl.AddService(ctx, api.AddServiceRequest{Definition: "name: x\nimage: [\n"}); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("AddService(bad yaml) = %v, want ErrInvalid", err)
	}

	// engines: this tree has no docker service
	engines, err := cl.Engines(ctx)
	if err != nil || len(engines) != 2 || engines[0].Name != "docker" || engines[0].Current || !engines[1].Current {
		t.Errorf("Engines() = %+v, %v, want docker (not current) and none (current)", engines, err)
	}
	if _, err := cl.SwitchEngine(ctx, "docker"); !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), "docker.yml") {
		t.Errorf("SwitchEngine(docker) without a docker service = %v, want ErrConflict pointing at yml/docker.yml", err)
	}
	if _, err := cl.SwitchEngine(ctx, "k3s"); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("SwitchEngine(k3s) = %v, want ErrInvalid", err)
	}

	// cloud-config: applied from the datasource before services started
	if got, err := cl.ConfigGet(ctx, "hostname"); err != nil || got != "test-box" {
		t.Errorf("ConfigGet(hostname) = %v, %v, want test-box", got, err)
	}
	if hs := hostnames.get(); len(hs) == 0 || hs[0] != "test-box" {
		t.Errorf("hostnames set = %v, want test-box", hs)
	}
	if b, err := os.ReadFile(filepath.Join(tree, "etc", "from-cloud-config")); err != nil || string(b) != "hello" {
		t.Errorf("write_files result = %q, %v, want hello", b, err)
	}
	// The datasource outranks the saved config: set says so.
	res, err := cl.ConfigSet(ctx, "hostname", "box-two")
	if err != nil || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "outranks") {
		t.Errorf("ConfigSet(hostname) = %+v, %v, want a warning that the datasource outranks it", res, err)
	}
	res, err = cl.ConfigSet(ctx, "ros.environment.GREETING", "hi")
	if err != nil || !strings.Contains(strings.Join(res.Applied, " "), "ros.environment") {
		t.Errorf("ConfigSet(ros.environment.GREETING) = %+v, %v, want ros.environment applied", res, err)
	}
	if b, _ := os.ReadFile(filepath.Join(tree, "etc", "environment")); !strings.Contains(string(b), "GREETING=hi") {
		t.Errorf("/etc/environment = %q, want GREETING=hi", b)
	}
	if _, err := cl.ConfigSet(ctx, "ros.network.interfaces.eth0.mtu", "big"); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("ConfigSet(mtu=big) = %v, want ErrInvalid", err)
	}
	v, err := cl.ConfigValidate(ctx, []byte("#cloud-config\nhostname: [a, b]\n"))
	if err != nil || v.Valid || len(v.Errors) == 0 || !strings.Contains(v.Errors[0], "hostname") {
		t.Errorf("ConfigValidate(bad) = %+v, %v, want invalid naming hostname", v, err)
	}
	hist, err := cl.ConfigHistory(ctx, 10)
	if err != nil || len(hist) < 2 || hist[0].Source != "ros config set ros.environment.GREETING" {
		t.Errorf("ConfigHistory = %+v, %v, want the set, newest first", hist, err)
	}
	evs, err := cl.Events(ctx, 0, 0)
	var evText []string
	for _, e := range evs {
		evText = append(evText, e.Kind+" "+e.Subject+" "+e.Message)
	}
	if err != nil || !strings.Contains(strings.Join(evText, "\n"), "service sleeper restart") {
		t.Errorf("Events = %v, %v, want the sleeper restart", evText, err)
	}
}

// checkPersisted starts rosd once more: the disabled service stays down,
// the added one comes back, the saved config wins over nothing.
func checkPersisted(t *testing.T, opts Options, tasks func() map[string]containerd.ProcessStatus) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts) }()
	waitFor(t, "added and sleeper running", 60*time.Second, func() bool {
		st := tasks()
		return st["added"] == containerd.Running && st["sleeper"] == containerd.Running
	})
	if st := tasks(); st["flaky"] != "" {
		t.Errorf("third start: tasks %v, want flaky (disabled) not started", st)
	}
	cl := api.NewClient(opts.Socket)
	if got, err := cl.ConfigGet(context.Background(), "hostname"); err != nil || got != "test-box" {
		t.Errorf("third start: hostname = %v, %v, want test-box (the datasource outranks the saved config)", got, err)
	}
	if err := cl.RemoveService(context.Background(), "added"); err != nil {
		t.Errorf("RemoveService(added) = %v", err)
	}
	cancel()
	<-done
}
