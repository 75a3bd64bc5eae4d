package qemu_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/testkernel"
)

const guestReady = "ROS-GUEST-READY"

// bootTimeout bounds one boot to the guest marker under TCG (~5 s here).
const bootTimeout = 3 * time.Minute

// guest builds the test kernel+initrd config once per test.
func guest(t *testing.T) qemu.Config {
	t.Helper()
	qemutest.Require(t)
	k := testkernel.Get(t)
	var extra []qemutest.File
	for _, m := range []string{
		"kernel/drivers/net/ethernet/intel/e1000/e1000.ko",
		"kernel/drivers/acpi/button.ko",
		"kernel/drivers/input/evdev.ko",
	} {
		data, err := os.ReadFile(filepath.Join(k.ModulesDir, m))
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, qemutest.File{Name: "modules/" + filepath.Base(m), Mode: 0o644, Data: data})
	}
	initrd := qemutest.GoInitrd(t, "./testdata/guestinit", extra...)
	return qemu.Config{
		Kernel:    k.Vmlinuz,
		Initrd:    initrd,
		Cmdline:   "console=ttyS0 panic=-1",
		MemoryMiB: 256,
		NoReboot:  true,
		NIC:       "e1000",
	}
}

func waitFor(t *testing.T, vm *qemu.VM, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), bootTimeout)
	defer cancel()
	if _, err := vm.WaitFor(ctx, text); err != nil {
		t.Fatal(err)
	}
}

// TestBoot boots the test guest once and drives it: console echo, a host
// port forward into the guest, a guest forward to a host HTTP server at
// 169.254.169.254:80, WaitFor's timeout error, reset, and a clean ACPI
// shutdown.
func TestBoot(t *testing.T) {
	cfg := guest(t)
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "metadata for %s", r.URL.Path)
	}))
	t.Cleanup(meta.Close)
	cfg.NoReboot = false // Reset below; -no-reboot would make it exit
	cfg.Forwards = []qemu.Forward{{Guest: 8080}}
	cfg.GuestForwards = []qemu.GuestForward{{Addr: "169.254.169.254:80", Target: meta.Listener.Addr().String()}}

	start := time.Now()
	vm := qemutest.Start(t, cfg)
	waitFor(t, vm, guestReady)
	t.Logf("accel %s: qemu start to %s in %v", vm.Accel(), guestReady, time.Since(start))

	if err := vm.Send("hello qemu\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, vm, "echo: hello qemu")

	// WaitFor times out with the console tail in its error.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	_, err := vm.WaitFor(ctx, "never printed")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "echo: hello qemu") {
		t.Errorf("WaitFor(never printed) = %v, want deadline exceeded quoting the console", err)
	}

	// Port forward: host port chosen, reaching a listener in the guest.
	port := vm.HostPort(8080)
	if port == 0 {
		t.Fatalf("HostPort(8080) = 0, want a port")
	}
	if err := vm.Send("net 169.254.2.15 255.255.0.0\n"); err != nil { // QEMU's DHCP address in 169.254.0.0/16
		t.Fatal(err)
	}
	waitFor(t, vm, "net up")
	if err := vm.Send("listen 8080\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, vm, "listening 8080")
	if got := readForwarded(t, port); got != "hello from guest\n" {
		t.Errorf("read from forwarded port %d = %q, want %q", port, got, "hello from guest\n")
	}

	// Guest forward: two requests, so one relay per connection.
	for _, p := range []string{"/one", "/two"} {
		if err := vm.Send("get http://169.254.169.254" + p + "\n"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, vm, "body: metadata for "+p)
	}

	if err := vm.Reset(t.Context()); err != nil {
		t.Fatalf("Reset() = %v", err)
	}
	waitFor(t, vm, guestReady) // printed a second time

	time.Sleep(time.Second) // let the guest open its input devices
	ctx, cancel = context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := vm.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v, want clean power-off", err)
	}
	if !strings.Contains(vm.Console(), "power button") {
		t.Errorf("console lacks %q after Shutdown", "power button")
	}
	if err := vm.Wait(t.Context()); err != nil {
		t.Errorf("Wait() = %v, want nil after power-off", err)
	}
}

// readForwarded reads what the guest answers on a forwarded host port,
// retrying while the guest's link comes up.
func readForwarded(t *testing.T, port int) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			b, _ := io.ReadAll(c)
			c.Close()
			if len(b) > 0 || time.Now().After(deadline) {
				return string(b)
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("dial forwarded port %d: %v", port, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestPowerdownIgnored: a guest that does not handle the power button is
// made to quit, and Shutdown says so.
func TestPowerdownIgnored(t *testing.T) {
	cfg := guest(t)
	cfg.Initrd = qemutest.GoInitrd(t, "./testdata/guestinit") // no button module
	cfg.ShutdownGrace = 2 * time.Second
	vm := qemutest.Start(t, cfg)
	waitFor(t, vm, guestReady)
	err := vm.Shutdown(t.Context())
	if !errors.Is(err, qemu.ErrPowerdownIgnored) {
		t.Errorf("Shutdown() = %v, want ErrPowerdownIgnored", err)
	}
	if !vm.Exited() {
		t.Errorf("QEMU still runs after Shutdown")
	}
}

// TestKill cuts the power; WaitFor then reports the exit.
func TestKill(t *testing.T) {
	cfg := guest(t)
	vm := qemutest.Start(t, cfg)
	waitFor(t, vm, guestReady)
	if err := vm.Kill(); err != nil {
		t.Fatalf("Kill() = %v", err)
	}
	if err := vm.Wait(t.Context()); err == nil {
		t.Errorf("Wait() after Kill = nil, want the kill")
	}
	if _, err := vm.WaitFor(t.Context(), "never printed"); !errors.Is(err, qemu.ErrExited) {
		t.Errorf("WaitFor after Kill = %v, want ErrExited", err)
	}
}

// TestUEFIPowerOff boots the kernel through OVMF and powers off from inside.
func TestUEFIPowerOff(t *testing.T) {
	cfg := guest(t)
	if _, err := os.Stat(qemu.DefaultOVMFCode); err != nil {
		t.Skip("needs OVMF (apt-get install ovmf)")
	}
	cfg.Firmware = qemu.UEFI
	start := time.Now()
	vm := qemutest.Start(t, cfg)
	waitFor(t, vm, guestReady)
	t.Logf("UEFI: qemu start to %s in %v", guestReady, time.Since(start))
	if err := vm.Send("poweroff\n"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := vm.Wait(ctx); err != nil {
		t.Errorf("Wait() after guest poweroff = %v, want nil", err)
	}
}

// TestStartError: a QEMU that cannot start is an error from Start quoting QEMU.
func TestStartError(t *testing.T) {
	qemutest.Require(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.qcow2")
	if err := os.WriteFile(bad, []byte("not a qcow2 image"), 0o644); err != nil {
		t.Fatal(err)
	}
	vm, err := qemu.Start(t.Context(), qemu.Config{Image: bad, Accel: "tcg"})
	if err == nil {
		vm.Close()
		t.Fatalf("Start(bad image) = nil error, want failure")
	}
	if !strings.Contains(err.Error(), "qcow2") {
		t.Errorf("Start(bad image) = %v, want QEMU's message", err)
	}
}

// syncBuffer is a bytes.Buffer for one writer and a polling reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(bootTimeout)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		found := strings.Contains(b.buf.String(), text)
		b.mu.Unlock()
		if found {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %q in Run's output", text)
}

// TestRun drives the interactive mode: typing reaches the guest, Ctrl-A X
// quits, and a cancelled ctx stops QEMU.
func TestRun(t *testing.T) {
	cfg := guest(t)
	for _, quit := range []string{"ctrl-a x", "cancel"} {
		t.Run(quit, func(t *testing.T) {
			in, typing := io.Pipe()
			defer typing.Close()
			var out syncBuffer
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- qemu.Run(ctx, cfg, in, &out) }()
			out.waitFor(t, guestReady)
			if _, err := io.WriteString(typing, "typed by a person\n"); err != nil {
				t.Fatal(err)
			}
			out.waitFor(t, "echo: typed by a person")
			var want error
			if quit == "cancel" {
				cancel()
				want = context.Canceled
			} else {
				if _, err := io.WriteString(typing, "\x01x"); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-done:
				if !errors.Is(err, want) {
					t.Errorf("Run() = %v, want %v", err, want)
				}
			case <-time.After(time.Minute):
				t.Fatalf("Run did not return after %s", quit)
			}
		})
	}
}

// BenchmarkBootToMarker measures QEMU start to the guest's marker (kernel
// + tiny Go initrd, BIOS, TCG).
func BenchmarkBootToMarker(b *testing.B) {
	qemutest.Require(b)
	k := testkernel.Get(b)
	initrd := qemutest.GoInitrd(b, "./testdata/guestinit")
	cfg := qemu.Config{Kernel: k.Vmlinuz, Initrd: initrd, Cmdline: "console=ttyS0 panic=-1",
		MemoryMiB: 256, NoReboot: true, NoNetwork: true, Accel: "tcg"}
	for b.Loop() {
		vm, err := qemu.Start(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.Context(), bootTimeout)
		_, err = vm.WaitFor(ctx, guestReady)
		cancel()
		vm.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}
