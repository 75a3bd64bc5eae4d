package e2e

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
)

// shutdownPhases are PID 1's shutdown phases, in order.
var shutdownPhases = []string{"onshutdown", "services", "containerd", "kill", "sync", "unmount"}

var phaseLine = regexp.MustCompile(`ros init: phase (\S+) (done in \d+ms|FAILED after \d+ms: .*)`)

// TestPowerButton presses the ACPI power button (QMP system_powerdown, what
// vm.Shutdown and cloud providers' "shut down" do): PID 1 must see it, shut
// down in order and power the machine off, so QEMU exits by itself.
func TestPowerButton(t *testing.T) {
	img := testImages(t)
	m := boot(t, img, qemu.Config{Image: img.Base + ".raw", Snapshot: true, ShutdownGrace: 3 * time.Minute})
	booted := m.console() // boot waited for the plain ready line, not "ready except"
	if !regexp.MustCompile(`ros init: power button: /dev/input/event\d+ \(Power Button\)`).MatchString(booted) {
		t.Fatalf("console lacks PID 1 watching the ACPI power button (modules button, evdev); power lines: %q",
			lineWith(booted, "power button"))
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	err := m.vm.Shutdown(ctx)
	took := time.Since(start)
	if errors.Is(err, qemu.ErrPowerdownIgnored) {
		t.Fatalf("vm.Shutdown() = %v, want the guest to power off by itself", err)
	}
	if err != nil {
		t.Fatalf("vm.Shutdown() = %v, want nil", err)
	}
	if err := m.vm.Wait(ctx); err != nil {
		t.Errorf("qemu exit = %v, want exit status 0 (guest powered off)", err)
	}
	t.Logf("power button to QEMU exit: %s", took.Round(time.Millisecond))

	con := m.console()
	after := con[len(booted):]
	i := strings.Index(after, "ros init: power button pressed")
	if i < 0 {
		t.Fatalf("console after the press lacks %q:\n%s", "ros init: power button pressed", after)
	}
	after = after[i:]
	t.Logf("console from the press on:\n%s", strings.ReplaceAll(after, "\r", ""))
	var got []string
	for _, p := range phaseLine.FindAllStringSubmatch(after, -1) {
		got = append(got, p[1])
		t.Logf("phase %s %s", p[1], strings.TrimSpace(p[2]))
		if strings.HasPrefix(p[2], "FAILED") {
			t.Errorf("shutdown phase %s %s", p[1], strings.TrimSpace(p[2]))
		}
	}
	if strings.Join(got, " ") != strings.Join(shutdownPhases, " ") {
		t.Errorf("shutdown phases on the console = %v, want %v", got, shutdownPhases)
	}
	for _, w := range []string{"ros init: poweroff", "reboot: Power down"} {
		if !strings.Contains(after, w) {
			t.Errorf("console after the press lacks %q", w)
		}
	}
}

// lineWith returns the console lines containing s.
func lineWith(con, s string) []string {
	var out []string
	for _, l := range strings.Split(con, "\n") {
		if strings.Contains(l, s) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}
