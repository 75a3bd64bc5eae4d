package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
)

// systemServices run in every image built from yml/ros.yml.
var systemServices = []string{"getty", "dhcp", "ntpd", "sshd"}

// TestBoot boots every medium on both firmwares: each must reach services
// ready, accept SSH with the baked-in key, and run every system service as
// a containerd task in namespace services.ros.
func TestBoot(t *testing.T) {
	img := testImages(t)
	cmdline, err := os.ReadFile(img.Base + "-cmdline")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    qemu.Config
		medium string // what stage 1 booted from, as /proc/cmdline shows it
	}{
		{"iso-bios", qemu.Config{Image: img.Base + ".iso"}, "ros.live"},
		{"iso-uefi", qemu.Config{Image: img.Base + ".iso", Firmware: qemu.UEFI}, "ros.live"},
		{"disk-bios", qemu.Config{Image: img.Base + ".raw", Snapshot: true}, "ros.slot=A"},
		{"disk-uefi", qemu.Config{Image: img.Base + ".raw", Snapshot: true, Firmware: qemu.UEFI}, "ros.slot=A"},
		{"pxe", qemu.Config{Kernel: img.Base + "-kernel", Initrd: img.Base + "-initrd.img",
			Cmdline: strings.TrimSpace(string(cmdline))}, "panic=5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := boot(t, img, tt.cfg)
			if got := m.ssh("cat /proc/cmdline"); !strings.Contains(got, tt.medium) {
				t.Errorf("/proc/cmdline = %q, want it to contain %q", got, tt.medium)
			}
			tasks := m.tasks()
			for _, s := range systemServices {
				if tasks[s].status != "RUNNING" {
					t.Errorf("service %s: task %+v, want RUNNING (tasks: %v)", s, tasks[s], tasks)
				}
			}
		})
	}
}

// TestServiceRestart kills a service's task: rosd must start it again.
func TestServiceRestart(t *testing.T) {
	img := testImages(t)
	m := boot(t, img, qemu.Config{Image: img.Base + ".raw", Snapshot: true})
	before := m.tasks()["ntpd"]
	if before.status != "RUNNING" {
		t.Fatalf("ntpd before kill: %+v, want RUNNING", before)
	}
	m.ssh("ctr -n services.ros tasks kill -s SIGKILL ntpd")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		after := m.tasks()["ntpd"]
		if after.status == "RUNNING" && after.pid != before.pid {
			t.Logf("ntpd restarted: pid %s -> %s", before.pid, after.pid)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ntpd after kill: %+v, want RUNNING with a new pid (was %s)", after, before.pid)
		}
		time.Sleep(2 * time.Second)
	}
}

type task struct{ pid, status string }

var taskLine = regexp.MustCompile(`(?m)^(\S+)\s+(\d+)\s+(\S+)\s*$`)

// tasks lists the containerd tasks in the services.ros namespace.
func (m *machine) tasks() map[string]task {
	m.t.Helper()
	out := m.ssh("ctr -n services.ros tasks ls")
	tasks := map[string]task{}
	for _, f := range taskLine.FindAllStringSubmatch(out, -1) {
		tasks[f[1]] = task{pid: f[2], status: f[3]}
	}
	return tasks
}

// console returns the console text so far, for messages.
func (m *machine) console() string { return m.vm.Console() }
