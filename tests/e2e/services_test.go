package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/tests/fixture"
)

// The service added with `ros service add`, from an image archive built by
// the test (there is no registry here).
const (
	addedName   = "e2e-hello"
	addedMarker = "hello from e2e-hello"
	markerRef   = "ros-e2e/marker:1"
	markerText  = "hello from the e2e marker image"
)

// addedDefinition is the LinuxKit image entry of the added service.
var addedDefinition = []byte(`name: ` + addedName + `
image: ` + markerRef + `
command: ["/bin/busybox", "sh", "-c", "echo ` + addedMarker + `; exec /bin/busybox sleep 2147483647"]
`)

// serviceAddCmd is how the CLI adds a service from a definition file and
// an image archive on the machine (AddServiceRequest.Archive).
func serviceAddCmd(definition, archive string) string {
	return "service add --archive " + archive + " " + definition
}

// markerArchive writes the marker image as a `docker save` archive.
func markerArchive(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "marker.tar")
	if err := (fixture.MarkerImage{Ref: markerRef, Marker: markerText}).WriteArchive(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// persistentDisk copies the test disk so that a test can write to it
// across reboots.
func persistentDisk(t *testing.T, raw string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(raw))
	if out, err := exec.Command("cp", "--sparse=always", raw, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy disk: %v: %s", err, out)
	}
	return dst
}

// seedDir writes a NoCloud seed directory.
func seedDir(t *testing.T, s fixture.Seed) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "seed")
	if err := s.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestServices drives system services through `ros service`, adds one from
// an image archive, and reboots the persistent disk with broken user-data:
// the added service must come back, and the machine must boot with the
// last good config and name the error.
//
// Boot 1: good NoCloud user-data. Boot 2: broken NoCloud user-data (same
// instance-id). Two boots of one disk.
func TestServices(t *testing.T) {
	img := testImages(t)
	disk := persistentDisk(t, img.Base+".raw")
	// As when the image is written to a larger disk: stage 1 must grow
	// ROS_STATE, and then its ext4, to the new end.
	if err := os.Truncate(disk, fileSize(t, disk)+1<<30); err != nil {
		t.Fatal(err)
	}
	archive := markerArchive(t)
	const iid = "iid-e2e-services"
	m := boot(t, img, qemu.Config{Image: disk, Seed: seedDir(t, fixture.Seed{UserData: goodUserData, InstanceID: iid})})
	t.Run("state grown", func(t *testing.T) {
		m := m.with(t)
		if c := m.console(); !regexp.MustCompile(`state: grew partition ROS_STATE from \d+ MiB to \d+ MiB`).MatchString(c) {
			t.Errorf("console does not say ROS_STATE grew to the disk's new end:\n%s", tail(c, 60))
		}
		kib, err := strconv.Atoi(field(strings.Split(m.ssh("df -k /var/log"), "\n")[1], 1))
		if err != nil || kib < 1<<20 {
			t.Errorf("state filesystem after growing the disk by 1 GiB: %d KiB %v, want over 1 GiB", kib, err)
		}
	})

	t.Run("list", func(t *testing.T) {
		m := m.with(t)
		t.Logf("rosd at services ready: %s", m.rosdMemory())
		list := m.services()
		for _, s := range systemServices {
			if list[s].State != "running" || list[s].Origin != "image" || !list[s].Enabled {
				t.Errorf("ros service list: %s = %+v, want running, origin image, enabled", s, list[s])
			}
		}
	})
	t.Run("stop-start-restart", func(t *testing.T) {
		m := m.with(t)
		const name = "ntpd"
		m.ros("service stop " + name)
		m.eventually("ntpd stopped", time.Minute, func() error {
			if s := m.services()[name]; s.State != "stopped" {
				return fmt.Errorf("%w: ros service list: %s %+v, want stopped", errNotYet, name, s)
			}
			return nil
		})
		if task := m.tasks()[name]; task.status == "RUNNING" {
			t.Errorf("after ros service stop: containerd task %s %+v still RUNNING", name, task)
		}
		if bad := notRunning(m.services()); len(bad) != 1 {
			t.Errorf("after stopping %s only, not running: %v", name, bad)
		}

		m.ros("service start " + name)
		var started service
		m.eventually("ntpd started", time.Minute, func() error {
			if started = m.services()[name]; started.State != "running" || started.PID == 0 {
				return fmt.Errorf("%w: ros service list: %s %+v, want running with a pid", errNotYet, name, started)
			}
			return nil
		})
		m.ros("service restart " + name)
		m.eventually("ntpd restarted", time.Minute, func() error {
			s := m.services()[name]
			if s.State != "running" || s.PID == 0 || s.PID == started.PID {
				return fmt.Errorf("%w: ros service list: %s %+v, want running with a pid other than %d", errNotYet, name, s, started.PID)
			}
			return nil
		})
		if task := m.tasks()[name]; task.status != "RUNNING" {
			t.Errorf("after ros service restart: containerd task %s %+v, want RUNNING", name, task)
		}
	})
	t.Run("logs", func(t *testing.T) {
		m := m.with(t)
		if out := m.ros("service logs sshd --lines 50"); !strings.Contains(out, "Server listening") {
			t.Errorf("ros service logs sshd --lines 50 lacks sshd's %q:\n%s", "Server listening", out)
		}
		out := m.ros("service logs sshd --lines 1")
		if n := strings.Count(strings.TrimRight(out, "\n"), "\n") + 1; n != 1 {
			t.Errorf("ros service logs sshd --lines 1 gave %d lines:\n%s", n, out)
		}
	})
	t.Run("add", func(t *testing.T) {
		m := m.with(t)
		data := readFile(t, archive)
		m.put("/tmp/e2e-marker.tar", data)
		m.put("/tmp/e2e-hello.yml", addedDefinition)
		m.ros(serviceAddCmd("/tmp/e2e-hello.yml", "/tmp/e2e-marker.tar"))
		waitAdded(m)
	})

	m.reboot(qemu.Config{Image: disk, Seed: seedDir(t, fixture.Seed{UserData: brokenUserData, InstanceID: iid})})

	t.Run("added-survives-reboot", func(t *testing.T) {
		m := m.with(t)
		waitAdded(m)
		if bad := notRunning(m.services()); len(bad) > 0 {
			t.Errorf("after reboot, not running: %v", bad)
		}
	})
	t.Run("broken-user-data", func(t *testing.T) {
		m := m.with(t)
		want, _ := expectProblem(t, brokenUserData)
		if got := strings.TrimSpace(m.ssh("hostname")); got != goodHostname {
			t.Errorf("hostname = %q, want %q from the last good config (broken user-data says %q)", got, goodHostname, brokenHostname)
		}
		if out, code := m.sshCode("cat /hostroot/etc/ros-e2e/good.txt"); code != 0 {
			t.Errorf("the last good config's file is missing after booting with broken user-data: %s", out)
		}
		if out, code := m.sshCode("cat /hostroot/etc/ros-e2e/broken.txt"); code == 0 {
			t.Errorf("broken user-data was applied: /etc/ros-e2e/broken.txt = %q", out)
		}
		out, code := m.sshCode("ros config validate")
		if code == 0 {
			t.Errorf("ros config validate (the booted, broken user-data): exit 0, want non-zero %s:\n%s", rosHint, out)
		}
		if !mentions(out, want) {
			t.Errorf("ros config validate does not name %q (key and line) %s:\n%s", want, rosHint, out)
		}
		t.Logf("ros config validate (booted with broken user-data): exit %d:\n%s", code, out)
		if !strings.Contains(out, "frobnicate") {
			t.Errorf("ros config validate does not warn about the unknown section frobnicate:\n%s", out)
		}
		if con := m.console(); !strings.Contains(con, want.Path) {
			t.Errorf("console does not name the broken key %s; cloud-config lines: %q", want.Path, lineWith(con, "config"))
		}
		if out := m.ros("config history"); !strings.Contains(out, "rejected") {
			t.Errorf("ros config history shows no rejected config:\n%s", out)
		}
	})
}

// waitAdded waits for the added service to run from its stored bundle and
// checks its origin and logs.
func waitAdded(m *machine) {
	m.t.Helper()
	m.eventually(addedName+" running", 2*time.Minute, func() error {
		s, ok := m.services()[addedName]
		if !ok || s.State != "running" {
			return fmt.Errorf("%w: ros service list: %s %+v (listed %v)", errNotYet, addedName, s, ok)
		}
		if s.Origin != "added" {
			return fmt.Errorf("%s origin %q, want added", addedName, s.Origin)
		}
		return nil
	})
	if out := m.ros("service logs " + addedName); !strings.Contains(out, addedMarker) {
		m.t.Errorf("ros service logs %s lacks %q:\n%s", addedName, addedMarker, out)
	}
}

// rosdMemory returns the VmRSS of the `ros daemon` process, for the log
// (the memory goal is a benchmark's business, not an assertion's).
func (m *machine) rosdMemory() string {
	m.t.Helper()
	out, _ := m.sshCode(`for p in /proc/[0-9]*; do c=$(tr '\0' ' ' < $p/cmdline 2>/dev/null); ` +
		`case "$c" in "ros daemon "|*"/ros daemon ") echo "pid ${p#/proc/} ($c): $(grep VmRSS $p/status)";; esac; done`)
	if strings.TrimSpace(out) == "" {
		return "no ros daemon process found"
	}
	return strings.Join(strings.Fields(out), " ")
}

// fileSize returns the size of a host file or fails the test.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
