package rosinit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/supervisor"
)

const pid1Env = "ROS_INIT_TEST_PID1_DIR"

// TestMain runs Init as PID 1 when the test binary is started by
// TestInitAsPID1 inside a new PID namespace.
func TestMain(m *testing.M) {
	if dir := os.Getenv(pid1Env); dir != "" {
		os.Exit(runAsPID1(dir))
	}
	os.Exit(m.Run())
}

// pid1Sys is a System that touches nothing but the fake files, and whose
// final reboot ends the namespace's PID 1.
type pid1Sys struct{ fakeSys }

func (p *pid1Sys) Mounts() ([]*mountinfo.Info, error) {
	return []*mountinfo.Info{{ID: 1, Mountpoint: "/"}, {ID: 2, Mountpoint: "/var"}}, nil
}

func (p *pid1Sys) Reboot(cmd int) error {
	if cmd == unix.LINUX_REBOOT_CMD_CAD_OFF {
		return nil
	}
	fmt.Printf("REBOOT %#x calls=%q\n", cmd, p.calls)
	os.Exit(0)
	return nil
}

func runAsPID1(dir string) int {
	if os.Getpid() != 1 {
		fmt.Println("not PID 1")
		return 2
	}
	cfg := DefaultConfig()
	files := map[string]string{"/etc/hostname": "pid1test\n"}
	// With a power-event FIFO in dir, its node is a power button in a fake
	// sysfs (64-bit bitmap).
	cfg.InputClass = filepath.Join(dir, "sys/class/input")
	cfg.InputDev = dir
	if _, err := os.Stat(filepath.Join(dir, "event0")); err == nil {
		files[filepath.Join(cfg.InputClass, "event0/device/capabilities/key")] = "10000000000000 0\n"
		files[filepath.Join(cfg.InputClass, "event0/device/name")] = "Test Power Button\n"
	}
	cfg.Sys = &pid1Sys{fakeSys{files: files}}
	cfg.Root = "/"
	cfg.ContainerdPath = filepath.Join(dir, "containerd")
	cfg.RosPath = filepath.Join(dir, "ros")
	cfg.ContainerdLog = filepath.Join(dir, "containerd.log")
	cfg.RosLog = filepath.Join(dir, "rosd.log")
	cfg.LogDir = dir
	cfg.Grace = time.Second
	cfg.Backoff = supervisor.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Factor: 2}
	cfg.Coldplug = nil
	err := New(cfg).Run(context.Background())
	fmt.Println("Run returned:", err)
	return 1
}

// runPID1 writes scripts into a temporary directory (prepare may add more
// files), runs Init as PID 1 of a new PID namespace with them standing in
// for containerd and the daemon, and returns the console and the directory.
func runPID1(t *testing.T, scripts func(dir string) map[string]string, prepare func(dir string)) (string, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the test binary as PID 1 of a new PID namespace")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (unshare of PID and network namespaces)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	dir := t.TempDir()
	for n, s := range scripts(dir) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if prepare != nil {
		prepare(dir)
	}
	var out bytes.Buffer
	cmd := exec.Command(unshare, "--pid", "--net", "--fork", "--mount-proc", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pid1Env+"="+dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("PID 1 did not finish:\n%s", out.String())
	}
	got := out.String()
	t.Logf("PID 1 console:\n%s", got)
	if err != nil {
		t.Fatalf("unshare ... = %v", err)
	}
	return got, dir
}

// inOrder fails t unless every string of want is in got, in that order.
func inOrder(t *testing.T, got string, want []string) {
	t.Helper()
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("PID 1 console lacks %q (in this order)", w)
		}
		rest = rest[i+len(w):]
	}
}

func TestInitAsPID1(t *testing.T) {
	// containerd fails twice (restart with backoff), then stays up; the
	// daemon asks for a poweroff the way `ros poweroff` does, and stops
	// cleanly on SIGTERM.
	got, dir := runPID1(t, func(dir string) map[string]string {
		return map[string]string{
			"containerd": `#!/bin/sh
n=$(cat ` + dir + `/count 2>/dev/null || echo 0)
echo "containerd $* run $n"
# Renamed into place: the daemon script polls the count, and a
# truncated file read mid-write would end its wait early.
echo $((n+1)) > ` + dir + `/count.tmp && mv ` + dir + `/count.tmp ` + dir + `/count
[ "$n" -lt 2 ] && exit 1
exec sleep 1000
`,
			"ros": `#!/bin/sh
trap 'echo daemon got TERM; exit 0' TERM
echo "ros $*"
# The daemon starts before containerd: until its first run there
# is no count, and [ "" -lt 3 ] would end the wait at once.
while [ "$(cat ` + dir + `/count 2>/dev/null || echo 0)" -lt 3 ]; do sleep 0.05; done
echo "oom_score_adj $(cat /proc/$$/oom_score_adj)"
sleep 0.3; kill -USR2 1
while :; do sleep 0.05; done
`,
		}
	}, nil)
	inOrder(t, got, []string{
		"ros init: phase mounts done in",
		"ros init: hostname pid1test",
		"ros init: phase loopback done in",
		"ros init: no power button found",
		"ros init: boot done in",
		"ros init: containerd exited after",
		"ros init: containerd restarting in 100ms (restart 1)",
		"ros init: containerd restarting in 200ms (restart 2)",
		"ros init: received user defined signal 2: poweroff",
		"ros init: phase onshutdown done in",
		"ros init: phase services done in",
		"ros init: phase containerd done in",
		"ros init: phase kill done in",
		"ros init: phase unmount done in",
		"ros init: poweroff",
		fmt.Sprintf("REBOOT %#x", unix.LINUX_REBOOT_CMD_POWER_OFF),
	})
	if !strings.Contains(got, `umount /var`) || !strings.Contains(got, `mount  /`) {
		t.Errorf("shutdown did not unmount /var and remount / read-only")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "rosd.log")); !strings.Contains(string(b), "daemon got TERM") {
		t.Errorf("rosd.log = %q, want the daemon to have been stopped with SIGTERM", b)
	}
	// Lowering an OOM score needs CAP_SYS_RESOURCE, which some build
	// sandboxes withhold even from root: then init must say so and run on.
	if supervisor.CanLowerOOMScore() {
		if b, _ := os.ReadFile(filepath.Join(dir, "rosd.log")); !strings.Contains(string(b), fmt.Sprintf("oom_score_adj %d", SystemOOMScoreAdj)) {
			t.Errorf("rosd.log = %q, want the daemon to run with oom_score_adj %d", b, SystemOOMScoreAdj)
		}
	} else if !strings.Contains(got, "ros init: warning: ros daemon: set oom_score_adj -999") {
		t.Errorf("without CAP_SYS_RESOURCE, the console does not warn that the daemon's oom_score_adj was not set")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "containerd.log")); !strings.Contains(string(b), "containerd --config /etc/containerd/config.toml run 2") {
		t.Errorf("containerd.log = %q, want three runs with --config", b)
	}
}

// TestPowerButtonAsPID1 presses a power button: a FIFO standing in for
// /dev/input/event0, listed as a power button in a fake sysfs. The daemon
// writes a key press, then a power key press into it.
func TestPowerButtonAsPID1(t *testing.T) {
	if InputEventSize != 24 {
		t.Skip("the fake sysfs bitmap is a 64-bit kernel's")
	}
	got, dir := runPID1(t, func(dir string) map[string]string {
		return map[string]string{
			"containerd": "#!/bin/sh\nexec sleep 1000\n",
			"ros": `#!/bin/sh
trap 'echo daemon got TERM; exit 0' TERM
sleep 0.3
cat ` + dir + `/press > ` + dir + `/event0
while :; do sleep 0.05; done
`,
		}
	}, func(dir string) {
		if err := unix.Mkfifo(filepath.Join(dir, "event0"), 0o600); err != nil {
			t.Fatal(err)
		}
		press := events(event(EvKey, keyEnter, 1), event(evSyn, 0, 0), event(EvKey, keyEnter, 0), event(evSyn, 0, 0),
			event(EvKey, KeyPower, 1), event(evSyn, 0, 0), event(EvKey, KeyPower, 0), event(evSyn, 0, 0))
		if err := os.WriteFile(filepath.Join(dir, "press"), press, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	inOrder(t, got, []string{
		"ros init: phase modules done in",
		"ros init: power button: " + filepath.Join(dir, "event0") + " (Test Power Button)",
		"ros init: phase power-button done in",
		"ros init: boot done in",
		"ros init: power button pressed",
		"ros init: phase onshutdown done in",
		"ros init: phase services done in",
		"ros init: phase containerd done in",
		"ros init: phase kill done in",
		"ros init: phase sync done in",
		"ros init: phase unmount done in",
		"ros init: poweroff",
		fmt.Sprintf("REBOOT %#x", unix.LINUX_REBOOT_CMD_POWER_OFF),
	})
	if strings.Count(got, "power button pressed") != 1 {
		t.Errorf("console has %d \"power button pressed\" lines, want 1", strings.Count(got, "power button pressed"))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "rosd.log")); !strings.Contains(string(b), "daemon got TERM") {
		t.Errorf("rosd.log = %q, want the daemon to have been stopped with SIGTERM", b)
	}
}
