package rosd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ros-os/ros/pkg/configapply"
	"github.com/ros-os/ros/pkg/containers"
	"github.com/ros-os/ros/pkg/supervisor"
	"github.com/ros-os/ros/pkg/tasks"
)

// syncBuffer is a console the test can read while rosd writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if ok() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// bundle writes a LinuxKit-layout container directory with a busybox rootfs
// running script.
func bundle(t *testing.T, dir, script string, mounts []specs.Mount, rt *containers.Runtime) {
	t.Helper()
	bin := filepath.Join(dir, "rootfs", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(bin, "sh")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"proc", "dev", "sys", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, "rootfs", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Process: &specs.Process{
			Args: []string{"/bin/busybox", "sh", "-c", script},
			Env:  []string{"PATH=/bin"},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  []string{"CAP_KILL"},
				Effective: []string{"CAP_KILL"},
				Permitted: []string{"CAP_KILL"},
			},
			NoNewPrivileges: true,
		},
		Hostname: filepath.Base(dir),
		// Checked by rosd every second (`ros service list` shows it).
		Annotations: map[string]string{"org.ros.health.cmd": "test -e /proc/1", "org.ros.health.interval": "1s"},
		Mounts: append([]specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}},
		}, mounts...),
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"}, {Type: "network"}},
		},
	}
	b, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if rt != nil {
		b, _ := json.Marshal(rt)
		if err := os.WriteFile(filepath.Join(dir, "runtime.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func startContainerd(t *testing.T, r *supervisor.Reaper, dir string) string {
	t.Helper()
	sock := filepath.Join(dir, "containerd.sock")
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	exited, err := r.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
			}
		}
		log.Close()
	})
	return sock
}

// annotate adds annotations to a bundle's config.json.
func annotate(t *testing.T, dir string, ann map[string]string) {
	t.Helper()
	p := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	for k, v := range ann {
		spec.Annotations[k] = v
	}
	raw, _ = json.Marshal(&spec)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildStaticRos builds the device ros (static, no cgo) for containers to
// run as ros-activate.
func buildStaticRos(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "ros")
	// go test puts its own GOROOT/bin first in PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("build ros: %v", err)
	}
	cmd := exec.Command(goBin, "build", "-tags", "rosdevice", "-o", out, "github.com/ros-os/ros/os/cmd/ros")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ros: %v\n%s", err, b)
	}
	return out
}

func TestRosdIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts containerd and runs containers")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (containerd, runc, mounts)")
	}
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (apt-get install containerd runc)", bin)
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox (apt-get install busybox-static)")
	}
	runc, _ := exec.LookPath("runc")

	tmp := t.TempDir()
	t.Cleanup(func() { _ = unmountUnder(tmp) })
	tree := filepath.Join(tmp, "tree")
	out := filepath.Join(tmp, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	outBind := []specs.Mount{{Destination: "/out", Type: "bind", Source: out, Options: []string{"rbind", "rw"}}}

	onboot := filepath.Join(tree, "containers", "onboot")
	bundle(t, filepath.Join(onboot, "000-first"), "echo 000 >> /out/order; echo first ran", outBind, nil)
	bundle(t, filepath.Join(onboot, "001-second"), "echo 001 >> /out/order; hostname > /out/hostname",
		outBind, &containers.Runtime{Mkdir: []string{"/var/made-by-runtime"}, BindNS: containers.Namespaces{Uts: "/run/ns/uts-001"}})
	bundle(t, filepath.Join(onboot, "002-fails"), "echo failing; exit 3", nil, nil)
	bundle(t, filepath.Join(onboot, "003-after-failure"), "echo 003 >> /out/order", outBind, nil)
	services := filepath.Join(tree, "containers", "services")
	// sleeper is socket-activated: it runs under the ros binary as
	// ros-activate and finds its listening socket at fd 3.
	bundle(t, filepath.Join(services, "sleeper"), `echo "fds=$LISTEN_FDS pid=$([ "$LISTEN_PID" = "$$" ] && echo ok) fd3=$(/bin/busybox readlink /proc/self/fd/3)"; echo sleeper up; exec sleep 1000`, nil, nil)
	annotate(t, filepath.Join(services, "sleeper"), map[string]string{"org.ros.listen": "tcp:127.0.0.1:0"})
	rosBin := buildStaticRos(t, tmp)
	// flaky crash-loops until /out/stable exists, then stays up.
	bundle(t, filepath.Join(services, "flaky"), "echo flaky run; [ -e /out/stable ] && exec sleep 1000; sleep 0.2; exit 1", outBind, nil)

	reaper := supervisor.NewReaper()
	if err := supervisor.SetSubreaper(); err != nil {
		t.Fatal(err)
	}
	loopCtx, stopLoop := context.WithCancel(context.Background())
	t.Cleanup(stopLoop) // after containerd's cleanup, which needs reaping
	go reaper.Loop(loopCtx, nil)

	cdStart := time.Now()
	sock := startContainerd(t, reaper, filepath.Join(tmp, "cd"))
	client, err := containerd.New(sock, containerd.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatalf("containerd: %v", err)
	}
	defer client.Close()
	t.Logf("containerd answering after %s", time.Since(cdStart).Round(time.Millisecond))
	cctx := namespaces.WithNamespace(context.Background(), tasks.DefaultNamespace)

	var evMu sync.Mutex
	var waits []time.Duration
	userData := filepath.Join(tmp, "user-data")
	if err := os.WriteFile(userData, []byte("#cloud-config\nhostname: test-box\nwrite_files:\n  - path: /etc/from-cloud-config\n    content: hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostnames := &syncList{}
	opts := func(console *syncBuffer) Options {
		return Options{
			Root: tree, LogDir: filepath.Join(tmp, "log"), StateDir: filepath.Join(tmp, "run-ros"), DataDir: filepath.Join(tree, "var", "lib", "ros"),
			Socket: filepath.Join(tmp, "ros.sock"), Group: "root", Version: "v-test", Binary: rosBin,
			Datasources:  []string{"file:" + userData},
			ConfigSystem: &configapply.System{Root: tree, SetHostname: func(h string) error { hostnames.add(h); return nil }},
			Address:      sock, RuncBinary: runc, RuncRoot: filepath.Join(tmp, "runc"),
			Grace: 2 * time.Second,
			// Longer than a flaky run, so a crash loop can never settle.
			Settle:        2 * time.Second,
			ReadyDeadline: 10 * time.Second,
			Backoff:       supervisor.Backoff{Initial: 300 * time.Millisecond, Max: 5 * time.Second, Factor: 2, ResetAfter: time.Minute},
			Console:       console, Reaper: reaper,
			OnEvent: func(e supervisor.Event) {
				if e.Name == "flaky" && e.State == supervisor.StateWaiting {
					evMu.Lock()
					waits = append(waits, e.Delay)
					evMu.Unlock()
				}
			},
		}
	}
	taskStatus := func() map[string]containerd.ProcessStatus {
		got := map[string]containerd.ProcessStatus{}
		cs, err := client.Containers(cctx)
		if err != nil {
			t.Fatalf("list containers: %v", err)
		}
		for _, c := range cs {
			got[c.ID()] = ""
			if task, err := c.Task(cctx, nil); err == nil {
				if st, err := task.Status(cctx); err == nil {
					got[c.ID()] = st.Status
				}
			}
		}
		return got
	}
	sleeperPid := func() uint32 {
		c, err := client.LoadContainer(cctx, "sleeper")
		if err != nil {
			t.Fatalf("load sleeper: %v", err)
		}
		task, err := c.Task(cctx, nil)
		if err != nil {
			t.Fatalf("sleeper task: %v", err)
		}
		return task.Pid()
	}

	// A container left from an earlier boot, with an outdated spec: rosd
	// must replace it, not adopt or trip over it.
	stale := &specs.Spec{Version: specs.Version, Root: &specs.Root{Path: "/nonexistent"},
		Process: &specs.Process{Args: []string{"/bin/false"}, Cwd: "/"}, Linux: &specs.Linux{}}
	if _, err := client.NewContainer(cctx, "sleeper", containerd.WithSpec(stale)); err != nil {
		t.Fatalf("create stale container: %v", err)
	}

	// First run: onboot, services, restarts; flaky crash-loops, so past
	// the deadline the console names it instead of saying ready.
	console := &syncBuffer{}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- Run(ctx, opts(console)) }()
	lateLine := ReadyLine + " except flaky\n"
	waitFor(t, "not-ready line", 60*time.Second, func() bool { return strings.Contains(console.String(), lateLine) })
	t.Logf("rosd start to %q: %s", strings.TrimSpace(lateLine), time.Since(start).Round(time.Millisecond))

	order, _ := os.ReadFile(filepath.Join(out, "order"))
	if string(order) != "000\n001\n003\n" {
		t.Errorf("onboot order file = %q, want 000 001 003 (002 fails, the rest still run)", order)
	}
	if h, _ := os.ReadFile(filepath.Join(out, "hostname")); strings.TrimSpace(string(h)) != "001-second" {
		t.Errorf("hostname seen by 001-second = %q, want 001-second", h)
	}
	if _, err := os.Stat(filepath.Join(tree, "var/made-by-runtime")); err != nil {
		t.Errorf("runtime.json mkdir: %v", err)
	}
	if ok, _ := mountinfo.Mounted(filepath.Join(tree, "run/ns/uts-001")); !ok {
		t.Error("runtime.json bindNS uts: not mounted")
	}
	con := console.String()
	for _, want := range []string{"ros: onboot 000-first done in", "ros: onboot 002-fails FAILED", "exit status 3", "ros: onboot 003-after-failure done in"} {
		if !strings.Contains(con, want) {
			t.Errorf("console lacks %q:\n%s", want, con)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(tmp, "log", "onboot-000-first.log")); !strings.Contains(string(b), "first ran") {
		t.Errorf("onboot-000-first.log = %q, want the container's output", b)
	}
	if st := taskStatus(); st["sleeper"] != containerd.Running {
		t.Errorf("tasks in %s = %v, want sleeper running", tasks.DefaultNamespace, st)
	}
	waitFor(t, "flaky to be restarted twice", 30*time.Second, func() bool {
		evMu.Lock()
		defer evMu.Unlock()
		return len(waits) >= 2
	})
	evMu.Lock()
	if waits[1] <= waits[0] {
		t.Errorf("flaky restart delays = %v, want increasing (backoff)", waits)
	}
	t.Logf("flaky restart delays: %v", waits)
	evMu.Unlock()
	if b, _ := os.ReadFile(filepath.Join(tmp, "log", "sleeper.log")); !strings.Contains(string(b), "sleeper up") {
		t.Errorf("sleeper.log = %q, want the service's output", b)
	} else if !strings.Contains(string(b), "fds=1 pid=ok fd3=socket:[") {
		t.Errorf("sleeper.log = %q, want LISTEN_FDS=1, LISTEN_PID its own, a socket at fd 3 (socket activation)", b)
	}
	waitFor(t, "flaky.log to show 2 runs", 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(tmp, "log", "flaky.log"))
		return strings.Count(string(b), "flaky run") >= 2
	})
	if !strings.Contains(console.String(), "ros: service flaky: restart 1 in 300ms") {
		t.Errorf("console lacks the restart line:\n%s", console.String())
	}
	if strings.Contains(console.String(), ReadyLine+"\n") {
		t.Fatalf("console says %q while flaky crash-loops:\n%s", ReadyLine, console.String())
	}

	// flaky stops crashing: ready, once, after the late line.
	if err := os.WriteFile(filepath.Join(out, "stable"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	stable := time.Now()
	waitFor(t, "ready line", 60*time.Second, func() bool { return strings.Contains(console.String(), ReadyLine+"\n") })
	t.Logf("flaky made stable to %q: %s", ReadyLine, time.Since(stable).Round(time.Millisecond))
	if st := taskStatus(); st["sleeper"] != containerd.Running || st["flaky"] != containerd.Running {
		t.Errorf("tasks at ready = %v, want sleeper and flaky running", st)
	}
	con = console.String()
	if strings.Count(con, lateLine) != 1 || strings.Count(con, ReadyLine+"\n") != 1 || strings.Index(con, lateLine) > strings.Index(con, ReadyLine+"\n") {
		t.Errorf("console = %q, want one late line, then one ready line", con)
	}

	// Detach (a rosd restart): services keep running and are adopted.
	pid := sleeperPid()
	cancel(supervisor.ErrDetach)
	if err := <-done; err != nil {
		t.Fatalf("Run() detached = %v, want nil", err)
	}
	if st := taskStatus(); st["sleeper"] != containerd.Running {
		t.Fatalf("after detach tasks = %v, want sleeper still running", st)
	}
	console2 := &syncBuffer{}
	ctx, cancel = context.WithCancelCause(context.Background())
	defer cancel(nil)
	start = time.Now()
	go func() { done <- Run(ctx, opts(console2)) }()
	waitFor(t, "ready line after restart", 60*time.Second, func() bool { return strings.Contains(console2.String(), ReadyLine+"\n") })
	t.Logf("rosd restart to %q (adoption): %s", ReadyLine, time.Since(start).Round(time.Millisecond))
	if strings.Contains(console2.String(), "except") {
		t.Errorf("rosd restart reported services not ready:\n%s", console2.String())
	}
	if got := sleeperPid(); got != pid {
		t.Errorf("sleeper pid after rosd restart = %d, want %d (adopted, not restarted)", got, pid)
	}
	if strings.Contains(console2.String(), "onboot") {
		t.Errorf("onboot ran again after a rosd restart:\n%s", console2.String())
	}
	if order, _ := os.ReadFile(filepath.Join(out, "order")); string(order) != "000\n001\n003\n" {
		t.Errorf("order after restart = %q, want onboot not rerun", order)
	}
	if st := taskStatus(); len(st) != 2 {
		t.Errorf("containers after restart = %v, want exactly sleeper and flaky", st)
	}

	checkAPI(t, tmp, tree, taskStatus, hostnames)

	// Shutdown: every task stopped and deleted.
	start = time.Now()
	cancel(nil)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("rosd did not stop")
	}
	t.Logf("rosd stop (SIGTERM to tasks, delete): %s", time.Since(start).Round(time.Millisecond))
	if st := taskStatus(); len(st) != 0 {
		t.Errorf("containers after shutdown = %v, want none", st)
	}
	checkPersisted(t, opts(&syncBuffer{}), taskStatus)
	if errors.Is(ctx.Err(), context.Canceled) == false {
		t.Error("context not cancelled")
	}
}
