package qemu

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Run boots cfg with the serial console on stdin/stdout for a person: as
// with `qemu -nographic`, Ctrl-A X quits, Ctrl-A C switches to the QEMU
// monitor and Ctrl-A H lists the keys. When stdin is a terminal QEMU puts it
// in raw mode; Run restores its settings afterwards whatever happened. Run
// returns when QEMU exits: nil when the guest powered off or the user quit.
// When ctx ends QEMU is told to quit (killed if it lingers) and Run returns
// ctx.Err(). cfg.Console, if set, gets a copy of the output. When stdin is
// not an *os.File, the goroutine copying it to QEMU ends at the next read
// that returns after QEMU has gone (so close it after Run).
func Run(ctx context.Context, cfg Config, stdin io.Reader, stdout io.Writer) error {
	dir, err := os.MkdirTemp(cfg.TempDir, "ros-qemu-")
	if err != nil {
		return fmt.Errorf("create VM temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	p, err := makePlan(ctx, cfg, dir, true)
	if err != nil {
		return err
	}

	if f, ok := stdin.(*os.File); ok {
		if saved, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			defer func() { _ = unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, saved) }()
		}
	}

	cmd := exec.Command(p.cfg.Binary, p.args()...)
	// exec would wait for a goroutine blocked reading a non-file stdin
	// forever; feed QEMU through a pipe of our own instead.
	var stdinW *os.File
	if f, ok := stdin.(*os.File); ok {
		cmd.Stdin = f
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("stdin pipe: %w", err)
		}
		defer r.Close()
		defer w.Close()
		cmd.Stdin, stdinW = r, w
	}
	cmd.Stdout = stdout
	if p.cfg.Console != nil {
		cmd.Stdout = io.MultiWriter(stdout, p.cfg.Console)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.cfg.Binary, err)
	}
	if stdinW != nil {
		go func() { _, _ = io.Copy(stdinW, stdin) }() // ends when stdin does or QEMU has gone
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var ctxErr error
	select {
	case err = <-done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		qctx, cancel := context.WithTimeout(context.Background(), quitGrace)
		_, _ = qmpCommand(qctx, p.qmpSocket, "quit", nil) // killed below if this failed
		cancel()
		select {
		case err = <-done:
		case <-time.After(quitGrace):
			_ = cmd.Process.Kill()
			err = <-done
		}
	}
	if ctxErr != nil {
		return ctxErr
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("qemu: %w: %s", err, msg)
		}
		return fmt.Errorf("qemu: %w", err)
	}
	return nil
}
