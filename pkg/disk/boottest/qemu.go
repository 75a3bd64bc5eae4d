package boottest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Firmware selects SeaBIOS or OVMF.
type Firmware string

const (
	BIOS Firmware = "bios"
	UEFI Firmware = "uefi"
)

// OVMF firmware files (Debian's ovmf package).
const (
	OVMFCode = "/usr/share/OVMF/OVMF_CODE.fd"
	OVMFVars = "/usr/share/OVMF/OVMF_VARS.fd"
)

// VM describes one QEMU boot.
type VM struct {
	Firmware Firmware
	Disk     string // raw image attached as a virtio disk
	CDROM    string // ISO attached as a CD-ROM
	Timeout  time.Duration
}

// Result is what a boot showed.
type Result struct {
	Output     string        // everything on the serial console
	Line       string        // the marker line, without the prefix
	ToMarker   time.Duration // wall time from QEMU start to the marker
	Total      time.Duration // wall time until QEMU exited
	MarkerSeen bool
}

// NeedQEMU skips when QEMU (or OVMF, for UEFI) is missing.
func NeedQEMU(t testing.TB, fw Firmware) {
	t.Helper()
	NeedTools(t, "qemu-system-x86_64")
	if fw == UEFI {
		for _, f := range []string{OVMFCode, OVMFVars} {
			if _, err := os.Stat(f); err != nil {
				t.Skipf("needs OVMF (%s)", f)
			}
		}
	}
}

// watcher collects console output and notes when the marker appears.
type watcher struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	start  time.Time
	seenAt time.Duration
	seen   chan struct{}
	once   sync.Once
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.seenAt == 0 && markerRE.Match(w.buf.Bytes()) {
		w.seenAt = time.Since(w.start)
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

var markerRE = regexp.MustCompile(Marker + ` ([^\r\n]*)\r?\n`)

// Boot runs QEMU under TCG with the serial console on a pipe, waits for the
// marker line and for QEMU to exit (the marker init powers off), and returns
// what it saw. It fails the test when the marker does not appear in time.
func Boot(t testing.TB, vm VM) Result {
	t.Helper()
	NeedQEMU(t, vm.Firmware)
	if vm.Timeout == 0 {
		vm.Timeout = 4 * time.Minute
	}
	args := []string{
		"-machine", "q35", "-m", "512", "-smp", "1",
		"-display", "none", "-serial", "stdio", "-monitor", "none",
		"-no-reboot", "-net", "none",
	}
	if vm.Firmware == UEFI {
		vars := filepath.Join(t.TempDir(), "OVMF_VARS.fd")
		b, err := os.ReadFile(OVMFVars)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vars, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+OVMFCode,
			"-drive", "if=pflash,format=raw,unit=1,file="+vars)
	}
	if vm.Disk != "" {
		args = append(args, "-drive", "file="+vm.Disk+",format=raw,if=virtio")
	}
	if vm.CDROM != "" {
		args = append(args, "-drive", "file="+vm.CDROM+",format=raw,media=cdrom,readonly=on")
	}
	ctx, cancel := context.WithTimeout(context.Background(), vm.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	w := &watcher{start: time.Now(), seen: make(chan struct{})}
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.Stdin = nil
	if err := cmd.Start(); err != nil {
		t.Fatalf("start qemu: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		waitErr = <-done
	}
	res := Result{Total: time.Since(w.start)}
	w.mu.Lock()
	res.Output = w.buf.String()
	res.ToMarker = w.seenAt
	w.mu.Unlock()
	if m := markerRE.FindStringSubmatch(res.Output); m != nil {
		res.Line = m[1]
		res.MarkerSeen = true
	}
	if !res.MarkerSeen {
		t.Fatalf("qemu %s: no %s line after %v (exit: %v); console:\n%s", strings.Join(args, " "), Marker, res.Total.Round(time.Millisecond), waitErr, tail(res.Output, 6000))
	}
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

var _ io.Writer = (*watcher)(nil)
