package e2e

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk/payload/layout"
	"github.com/ros-os/ros/pkg/qemu"
)

// systemServices run in every image built from yml/ros.yml.
var systemServices = []string{"getty", "dhcp", "ntpd", "sshd"}

// TestBoot boots every medium on both firmwares: each must reach services
// ready, accept SSH with the baked-in key, and run every system service as
// a containerd task in namespace services.ros. The disk and the live ISO
// also boot in a 256 MiB VM on both firmwares (under UEFI that takes the
// GRUB modules of grub.EFIModulesSuite: bookworm's GRUB 2.06 runs out of
// memory loading the kernel there).
func TestBoot(t *testing.T) {
	img := testImages(t)
	cmdline, err := os.ReadFile(img.Base + "-cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if got := slotLayout(t, img.Base+".raw", "A"); got.Boot.Compression != "gzip" || got.Root.Compression != "zstd" {
		t.Errorf("slot A payload %+v, want a gzip boot part and a zstd root part (the default)", got)
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
		{"disk-bios-256MiB", qemu.Config{Image: img.Base + ".raw", Snapshot: true, MemoryMiB: 256}, "ros.slot=A"},
		{"iso-bios-256MiB", qemu.Config{Image: img.Base + ".iso", MemoryMiB: 256}, "ros.live"},
		{"disk-uefi-256MiB", qemu.Config{Image: img.Base + ".raw", Snapshot: true, Firmware: qemu.UEFI, MemoryMiB: 256}, "ros.slot=A"},
		{"iso-uefi-256MiB", qemu.Config{Image: img.Base + ".iso", Firmware: qemu.UEFI, MemoryMiB: 256}, "ros.live"},
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
			// One containerd shim serves every service (tasks.ShimGroup).
			shims := map[string]bool{}
			for _, tk := range tasks {
				shims[tk.shim] = true
			}
			if len(shims) != 1 {
				t.Errorf("services are served by %d shims, want 1: %v", len(shims), tasks)
			}
			// The shim drives crun, not runc (tasks.DefaultRuntime): crun's
			// state directory holds "status", runc's "state.json".
			for _, s := range systemServices {
				state := m.root("nsenter -t 1 -m /bin/busybox ls /run/containerd/runc/services.ros/" + s)
				if !strings.Contains(state, "status") || strings.Contains(state, "state.json") {
					t.Errorf("service %s: runtime state files %q, want crun's (status, no state.json)", s, state)
				}
			}
			// raft's open segments are 1 MiB (pkg/state SegmentSize), not its
			// 8 MiB default: on the live ISO, /var is RAM.
			segs := m.root("nsenter -t 1 -m /bin/busybox sh -c 'for f in /var/lib/ros/db/open-*; do /bin/busybox stat -c \"%s %n\" $f; done'")
			if !strings.Contains(segs, "open-") {
				t.Errorf("no raft open segments in /var/lib/ros/db: %q", segs)
			}
			for _, line := range strings.Split(segs, "\n") {
				if size, err := strconv.Atoi(field(line, 0)); err != nil || size > 1<<20 {
					t.Errorf("raft open segment %q: want at most 1 MiB", line)
				}
			}
			// Stage 1 turned transparent huge pages off (os/initrd THPMode).
			if got := m.ssh("cat /sys/kernel/mm/transparent_hugepage/enabled"); !strings.Contains(got, "[never]") {
				t.Errorf("transparent huge pages: %q, want [never]", got)
			}
		})
	}
}

// TestBootXZPayload boots, under BIOS, a disk built with ros build
// --compression xz: slot A holds a gzip boot squashfs (for GRUB) and an xz
// root, and every system service runs.
func TestBootXZPayload(t *testing.T) {
	img := xzImages(t)
	if got := slotLayout(t, img.Base+".raw", "A"); got.Boot.Compression != "gzip" || got.Root.Compression != "xz" || !got.Split() {
		t.Fatalf("slot A payload %+v, want a gzip boot part and an xz root part", got)
	}
	m := boot(t, img, qemu.Config{Image: img.Base + ".raw", Snapshot: true})
	tasks := m.tasks()
	for _, s := range systemServices {
		if tasks[s].status != "RUNNING" {
			t.Errorf("service %s: task %+v, want RUNNING (tasks: %v)", s, tasks[s], tasks)
		}
	}
}

// slotLayout reads where the parts of the payload in a disk image's slot
// are, and their compressors.
func slotLayout(t *testing.T, raw, slot string) layout.Layout {
	t.Helper()
	r := slotReaders(t, raw)[slot]
	l, err := layout.Read(r, r.Size())
	if err != nil {
		t.Fatalf("slot %s: %v", slot, err)
	}
	return l
}

// TestServiceRestart kills a service's task: rosd must start it again.
func TestServiceRestart(t *testing.T) {
	img := testImages(t)
	m := boot(t, img, qemu.Config{Image: img.Base + ".raw", Snapshot: true})
	before := m.tasks()["ntpd"]
	if before.status != "RUNNING" {
		t.Fatalf("ntpd before kill: %+v, want RUNNING", before)
	}
	m.root("kill -9 " + before.pid)
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

// task is a service's containerd task as containerd's own state shows it.
type task struct {
	pid, status string
	shim        string // the address of the shim serving it
}

var taskLine = regexp.MustCompile(`(?m)^(\S+) (\d+) (RUNNING|STOPPED) (\S*)$`)

// taskState prints, for each task containerd keeps in namespace
// services.ros, "NAME PID STATUS SHIM-ADDRESS": containerd writes a
// bundle per task with the pid runc started and the address of its shim;
// the task is RUNNING while that process lives and is not a zombie.
const taskState = `cd /run/containerd/io.containerd.runtime.v2.task/services.ros 2>/dev/null || exit 0
for d in */; do n=${d%/}; p=$(cat $n/init.pid 2>/dev/null); s=STOPPED
[ -n "$p" ] && [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status && s=RUNNING
echo "$n ${p:-0} $s $(cat $n/address 2>/dev/null)"; done`

// tasks lists the containerd tasks in the services.ros namespace, read
// from containerd's state and /proc rather than from rosd.
func (m *machine) tasks() map[string]task {
	m.t.Helper()
	out := m.root(taskState)
	tasks := map[string]task{}
	for _, f := range taskLine.FindAllStringSubmatch(out, -1) {
		tasks[f[1]] = task{pid: f[2], status: f[3], shim: f[4]}
	}
	return tasks
}

// console returns the console text so far, for messages.
func (m *machine) console() string { return m.vm.Console() }

// TestDebugShellMenuEntry picks the live ISO's debug-shell entry in GRUB's
// menu: stage 1 must start a shell in the mounted root on the console,
// and leaving it must let the boot go on to services ready.
func TestDebugShellMenuEntry(t *testing.T) {
	img := testImages(t)
	m := start(t, img, qemu.Config{Image: img.Base + ".iso"})
	ctx, cancel := context.WithTimeout(t.Context(), bootTimeout)
	defer cancel()
	// The live ISO's menu: live, debug shell, install.
	pickMenuEntry(ctx, t, m.vm, 1)
	if _, err := m.vm.WaitForRegexp(ctx, regexp.MustCompile(`Command line: .*ros\.debug`)); err != nil {
		t.Fatalf("choosing the debug-shell entry: %v", err)
	}
	if _, err := m.vm.WaitFor(ctx, "exit it to continue booting"); err != nil {
		t.Fatalf("stage 1 did not offer the shell: %v", err)
	}
	// The typed line holds $((6*7)), not 42: only a shell that ran it in
	// the OS's root prints the answer.
	answered := false
	for try := 0; try < 5 && !answered; try++ {
		if err := m.vm.Send("test -x /usr/bin/ros && echo in-root-$((6*7))\r"); err != nil {
			t.Fatal(err)
		}
		wait, stop := context.WithTimeout(ctx, 10*time.Second)
		_, err := m.vm.WaitFor(wait, "in-root-42")
		stop()
		answered = err == nil
	}
	if !answered {
		t.Fatalf("the debug shell did not run a command in the root:\n%s", m.vm.ConsoleTail(15))
	}
	if err := m.vm.Send("exit\r"); err != nil {
		t.Fatal(err)
	}
	m.waitReady()
	m.ssh("true")
}
