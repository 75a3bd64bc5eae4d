package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// quitGrace is how long Shutdown and Run wait for QEMU to exit after a QMP
// quit before killing it.
const quitGrace = 10 * time.Second

// VM is a running QEMU whose serial console is on a pipe. All methods are
// safe for concurrent use; WaitFor's cursor is shared, so expect-style
// waiting belongs to one goroutine.
type VM struct {
	plan *plan
	dir  string
	args []string
	cmd  *exec.Cmd
	con  *console

	stdinMu sync.Mutex
	stdin   io.WriteCloser
	stderr  lockedBuffer

	done    chan struct{} // closed when QEMU has exited
	waitErr error         // set before done is closed

	stopCtx   func() bool
	closeOnce sync.Once
	closeErr  error
}

// Start boots cfg. The VM lives until it exits, Kill, Shutdown or Close, or
// until ctx is done (which kills it, as exec.CommandContext does). Start
// returns once QEMU answers on its monitor, so a QEMU that cannot start
// (missing file, port taken) is an error here, quoting QEMU's message.
// Always Close the VM: it removes the temporary files (t.Cleanup(vm.Close)).
func Start(ctx context.Context, cfg Config) (*VM, error) {
	dir, err := os.MkdirTemp(cfg.TempDir, "ros-qemu-")
	if err != nil {
		return nil, fmt.Errorf("create VM temp dir: %w", err)
	}
	vm, err := start(ctx, cfg, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return vm, nil
}

func start(ctx context.Context, cfg Config, dir string) (*VM, error) {
	p, err := makePlan(ctx, cfg, dir, false)
	if err != nil {
		return nil, err
	}
	vm := &VM{plan: p, dir: dir, args: p.args(), con: newConsole(p.cfg.Console), done: make(chan struct{})}
	vm.cmd = exec.Command(p.cfg.Binary, vm.args...)
	vm.cmd.Stdout = vm.con
	vm.cmd.Stderr = &vm.stderr
	vm.cmd.WaitDelay = 2 * time.Second
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if vm.stdin, err = vm.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("qemu stdin: %w", err)
	}
	if err := vm.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.cfg.Binary, err)
	}
	go func() {
		vm.waitErr = vm.cmd.Wait()
		close(vm.done)
	}()
	vm.stopCtx = context.AfterFunc(ctx, func() { _ = vm.Kill() })
	if err := vm.waitMonitor(ctx); err != nil {
		vm.Close()
		return nil, err
	}
	return vm, nil
}

// waitMonitor waits until QMP answers: QEMU has parsed its command line,
// opened every file and bound every port.
func (vm *VM) waitMonitor(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := qmpCommand(qctx, vm.plan.qmpSocket, "query-status", nil)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-vm.done:
			return fmt.Errorf("qemu failed to start: %w", vm.exitErr())
		case <-ctx.Done():
			return fmt.Errorf("wait for qemu monitor: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// exitErr describes how QEMU ended, with its stderr; nil for exit status 0
// or while it runs.
func (vm *VM) exitErr() error {
	select {
	case <-vm.done:
	default:
		return nil
	}
	if vm.waitErr == nil {
		return nil
	}
	msg := strings.TrimSpace(vm.stderr.String())
	if msg == "" {
		return fmt.Errorf("qemu: %w", vm.waitErr)
	}
	return fmt.Errorf("qemu: %w: %s", vm.waitErr, msg)
}

// Send types s on the serial console.
func (vm *VM) Send(s string) error {
	vm.stdinMu.Lock()
	defer vm.stdinMu.Unlock()
	if _, err := io.WriteString(vm.stdin, s); err != nil {
		return fmt.Errorf("send to console: %w", err)
	}
	return nil
}

// Wait waits for QEMU to exit and returns how it ended: nil for exit status
// 0 (the guest powered off, or rebooted under NoReboot), else the error with
// QEMU's stderr. It returns ctx.Err() if ctx ends first, leaving the VM running.
func (vm *VM) Wait(ctx context.Context) error {
	select {
	case <-vm.done:
		return vm.exitErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when QEMU has exited.
func (vm *VM) Done() <-chan struct{} { return vm.done }

// Exited reports whether QEMU has exited.
func (vm *VM) Exited() bool {
	select {
	case <-vm.done:
		return true
	default:
		return false
	}
}

// Kill cuts the power: SIGKILL to QEMU, then waits for it to be gone.
func (vm *VM) Kill() error {
	if !vm.Exited() {
		if err := vm.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("kill qemu: %w", err)
		}
	}
	<-vm.done
	return nil
}

// Shutdown presses the ACPI power button (QMP system_powerdown) and waits up
// to Config.ShutdownGrace for the guest to power off. If it does not, QEMU
// is told to quit (then killed if it lingers) and the error wraps
// ErrPowerdownIgnored. If ctx ends first the VM is killed.
func (vm *VM) Shutdown(ctx context.Context) error {
	if vm.Exited() {
		return nil
	}
	if _, err := vm.Monitor(ctx, "system_powerdown", nil); err != nil && !vm.Exited() {
		_ = vm.Kill()
		return err
	}
	grace := time.NewTimer(vm.plan.cfg.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-vm.done:
		return nil
	case <-ctx.Done():
		_ = vm.Kill()
		return fmt.Errorf("shutdown: %w", ctx.Err())
	case <-grace.C:
	}
	if err := vm.quit(ctx); err != nil {
		return err
	}
	return fmt.Errorf("shutdown after %s: %w", vm.plan.cfg.ShutdownGrace, ErrPowerdownIgnored)
}

// quit asks QEMU to exit now and kills it if it lingers.
func (vm *VM) quit(ctx context.Context) error {
	_, _ = vm.Monitor(ctx, "quit", nil) // killed below if this failed
	t := time.NewTimer(quitGrace)
	defer t.Stop()
	select {
	case <-vm.done:
		return nil
	case <-ctx.Done():
	case <-t.C:
	}
	return vm.Kill()
}

// Reset presses the reset button (QMP system_reset). Under
// Config.NoReboot QEMU exits instead.
func (vm *VM) Reset(ctx context.Context) error {
	_, err := vm.Monitor(ctx, "system_reset", nil)
	return err
}

// Monitor runs a QMP command (https://qemu.readthedocs.io/en/latest/interop/qemu-qmp-ref.html)
// and returns its "return" value.
func (vm *VM) Monitor(ctx context.Context, command string, args any) (json.RawMessage, error) {
	if vm.Exited() {
		return nil, fmt.Errorf("qmp %s: %w", command, ErrExited)
	}
	return qmpCommand(ctx, vm.plan.qmpSocket, command, args)
}

// HostPort returns the host port forwarded to guest TCP port guest, or 0.
func (vm *VM) HostPort(guest int) int {
	for _, f := range vm.plan.forwards {
		if f.Guest == guest {
			return f.Host
		}
	}
	return 0
}

// SSHPort returns the host port forwarded to the guest's port 22, or 0.
func (vm *VM) SSHPort() int { return vm.HostPort(22) }

// Forwards returns the port forwards with their host ports chosen.
func (vm *VM) Forwards() []Forward { return append([]Forward(nil), vm.plan.forwards...) }

// Args returns the QEMU command line, binary first.
func (vm *VM) Args() []string { return append([]string{vm.plan.cfg.Binary}, vm.args...) }

// Accel returns the accelerator in use: kvm or tcg.
func (vm *VM) Accel() string { return vm.plan.accel }

// Stderr returns what QEMU printed on its standard error.
func (vm *VM) Stderr() string { return vm.stderr.String() }

// Close kills QEMU if it still runs and removes the VM's temporary files
// (the UEFI variables copy, blank disks, the seed image). It is idempotent.
func (vm *VM) Close() error {
	vm.closeOnce.Do(func() {
		vm.stopCtx()
		_ = vm.Kill()
		vm.stdinMu.Lock()
		vm.stdin.Close()
		vm.stdinMu.Unlock()
		if err := os.RemoveAll(vm.dir); err != nil {
			vm.closeErr = fmt.Errorf("remove VM temp dir: %w", err)
		}
	})
	return vm.closeErr
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
