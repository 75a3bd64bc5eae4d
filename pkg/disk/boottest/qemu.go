package boottest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
)

// bootTimeout bounds one boot to the marker under TCG.
const bootTimeout = 4 * time.Minute

// Result is what a boot showed.
type Result struct {
	Output   string        // everything on the serial console
	Line     string        // the marker line, without the prefix
	ToMarker time.Duration // wall time from QEMU start to the marker
	Total    time.Duration // wall time until QEMU exited
}

// NeedQEMU skips when QEMU (or OVMF, for UEFI) is missing, and under -short.
func NeedQEMU(t testing.TB, fw qemu.Firmware) {
	t.Helper()
	qemutest.Require(t)
	if fw == qemu.UEFI {
		for _, f := range []string{qemu.DefaultOVMFCode, qemu.DefaultOVMFVars} {
			if _, err := os.Stat(f); err != nil {
				t.Skipf("needs OVMF (%s)", f)
			}
		}
	}
}

var markerRE = regexp.MustCompile(Marker + ` ([^\r\n]*)\r?\n`)

// Boot boots cfg with qemutest.Start (no network, no reboot, 512 MiB unless
// set), waits for the marker line and for QEMU to exit (the marker init
// powers off), and returns what it saw. It fails the test when the marker
// does not appear in time.
func Boot(t testing.TB, cfg qemu.Config) Result {
	t.Helper()
	return boot(t, cfg, markerRE, true)
}

// BootUntil boots cfg as Boot does but waits for re on the console (for
// boots that never reach the marker, such as GRUB refusing every slot),
// then stops QEMU. Line is re's first group, or the whole match.
func BootUntil(t testing.TB, cfg qemu.Config, re *regexp.Regexp) Result {
	t.Helper()
	return boot(t, cfg, re, false)
}

func boot(t testing.TB, cfg qemu.Config, re *regexp.Regexp, waitExit bool) Result {
	t.Helper()
	NeedQEMU(t, cfg.Firmware)
	cfg.NoNetwork, cfg.NoReboot = true, true
	if cfg.MemoryMiB == 0 {
		cfg.MemoryMiB = 512
	}
	ctx, cancel := context.WithTimeout(t.Context(), bootTimeout)
	defer cancel()
	start := time.Now()
	vm := qemutest.Start(t, cfg)
	m, err := vm.WaitForRegexp(ctx, re)
	if err != nil {
		t.Fatalf("boot %v: no match for %s: %v", vm.Args(), re, err)
	}
	res := Result{Line: m[0], ToMarker: time.Since(start)}
	if len(m) > 1 {
		res.Line = m[1]
	}
	if waitExit {
		if err := vm.Wait(ctx); err != nil {
			t.Logf("qemu after the marker: %v", err)
		}
	} else if err := vm.Close(); err != nil {
		t.Logf("stop qemu: %v", err)
	}
	res.Total = time.Since(start)
	res.Output = vm.Console()
	return res
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Expect fails unless the marker line reports slot and payload.
func (r Result) Expect(t testing.TB, slot, payload string) {
	t.Helper()
	want := fmt.Sprintf("slot=%s payload=%s ", slot, payload)
	if !strings.HasPrefix(r.Line+" ", want) {
		t.Errorf("boot marker = %q, want prefix %q; console:\n%s", r.Line, want, tail(r.Output, 4000))
	}
}
