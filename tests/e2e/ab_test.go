package e2e

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/qemu"
)

// abDisk copies the test disk, puts slot A's payload into slot B too, and
// sets grubenv to try B once with cmdlineB.
func abDisk(t *testing.T, img images, cmdlineB func(cmdlineA string) string) string {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "ab.raw")
	if out, err := exec.Command("cp", "--sparse=always", img.Base+".raw", raw).CombinedOutput(); err != nil {
		t.Fatalf("copy disk: %v: %s", err, out)
	}
	layout, err := disk.ReadLayout(raw)
	if err != nil {
		t.Fatal(err)
	}
	a, err := layout.Slot("A")
	if err != nil {
		t.Fatal(err)
	}
	b, err := layout.Slot("B")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(raw, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.NewOffsetWriter(f, b.Start), io.NewSectionReader(f, a.Start, a.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("copy slot A to B: %v", err)
	}
	env, err := disk.ReadEnv(raw)
	if err != nil {
		t.Fatal(err)
	}
	cmdA, _ := env.Get(grub.CmdlineVar("A"))
	if err := grub.TryNext(env, "B", cmdlineB(cmdA), 1); err != nil {
		t.Fatal(err)
	}
	if err := disk.WriteEnv(raw, env); err != nil {
		t.Fatal(err)
	}
	return raw
}

// bootedSlot is the slot in the running machine's command line.
func (m *machine) bootedSlot() string {
	m.t.Helper()
	cmdline := m.ssh("cat /proc/cmdline")
	for _, f := range strings.Fields(cmdline) {
		if s, ok := strings.CutPrefix(f, "ros.slot="); ok {
			return s
		}
	}
	m.t.Fatalf("no ros.slot in /proc/cmdline %q", cmdline)
	return ""
}

func grubState(t *testing.T, raw string) grub.State {
	t.Helper()
	env, err := disk.ReadEnv(raw)
	if err != nil {
		t.Fatal(err)
	}
	return grub.ReadState(env)
}

// TestTrialBoot: grubenv set to try B once boots B; rosd finds the
// services healthy and makes B the good slot, so the next boot is B again.
func TestTrialBoot(t *testing.T) {
	img := testImages(t)
	raw := abDisk(t, img, func(a string) string { return a })
	m := boot(t, img, qemu.Config{Image: raw})
	if got := m.bootedSlot(); got != "B" {
		t.Fatalf("trial boot: slot %s, want B", got)
	}
	m.waitConsole("ros: slot B", 2*time.Minute)
	if st := grubState(t, raw); st.Good != "B" || st.Try != "" {
		t.Errorf("grubenv after a healthy trial = %+v, want good B and no trial", st)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := m.vm.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	m.waitReady()
	if got := m.bootedSlot(); got != "B" {
		t.Errorf("boot after a confirmed trial: slot %s, want B", got)
	}
}

// TestTrialFallback: slot B's command line names an init that does not
// exist, so stage 1 fails and reboots; GRUB, with no tries left, boots A.
func TestTrialFallback(t *testing.T) {
	img := testImages(t)
	raw := abDisk(t, img, func(a string) string { return a + " init=/sbin/missing" })
	m := boot(t, img, qemu.Config{Image: raw})
	if got := m.bootedSlot(); got != "A" {
		t.Fatalf("after a failed trial of B: slot %s, want A", got)
	}
	console := m.console()
	failed := strings.Index(console, "ros-initrd: FAILED")
	if failed < 0 {
		t.Fatalf("console shows no stage-1 failure of the trial boot:\n%s", tail(console, 60))
	}
	if st := grubState(t, raw); st.Good != "A" || st.Tries != 0 {
		t.Errorf("grubenv after fallback = %+v, want good A, no tries left", st)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
