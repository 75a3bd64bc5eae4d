package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeVM is a VM with a console and no process.
func fakeVM() *VM {
	return &VM{con: newConsole(nil), done: make(chan struct{})}
}

func TestWaitForCursor(t *testing.T) {
	vm := fakeVM()
	fmt.Fprint(vm.con, "boot\r\nREADY\r\n")
	ctx := t.Context()
	got, err := vm.WaitFor(ctx, "READY")
	if err != nil || got != "boot\r\nREADY" {
		t.Fatalf("WaitFor(READY) = %q, %v, want %q", got, err, "boot\r\nREADY")
	}
	// A second wait for the same text needs a second print.
	go func() {
		time.Sleep(50 * time.Millisecond)
		fmt.Fprint(vm.con, "reboot\r\nREA")
		time.Sleep(50 * time.Millisecond)
		fmt.Fprint(vm.con, "DY\r\n")
	}()
	got, err = vm.WaitFor(ctx, "READY")
	if err != nil || got != "\r\nreboot\r\nREADY" {
		t.Fatalf("second WaitFor(READY) = %q, %v, want %q", got, err, "\r\nreboot\r\nREADY")
	}
	if c := vm.Console(); c != "boot\r\nREADY\r\nreboot\r\nREADY\r\n" {
		t.Errorf("Console() = %q", c)
	}
}

func TestWaitForRegexp(t *testing.T) {
	vm := fakeVM()
	fmt.Fprint(vm.con, "eth0: ip=10.0.2.15 up\n")
	m, err := vm.WaitForRegexp(t.Context(), regexp.MustCompile(`ip=(\S+) (up|down)`))
	if err != nil || len(m) != 3 || m[1] != "10.0.2.15" || m[2] != "up" {
		t.Errorf("WaitForRegexp() = %q, %v, want [.. 10.0.2.15 up]", m, err)
	}
}

func TestWaitForTimeoutQuotesTail(t *testing.T) {
	vm := fakeVM()
	for i := range 100 {
		fmt.Fprintf(vm.con, "line %d\r\n", i)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := vm.WaitFor(ctx, "never")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor(never) = %v, want DeadlineExceeded", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "line 99\nline 98") && !strings.Contains(msg, "line 98\nline 99") {
		t.Errorf("WaitFor error lacks the console tail: %s", msg)
	}
	if strings.Contains(msg, "line 59\n") || !strings.Contains(msg, "line 60\n") {
		t.Errorf("WaitFor error should quote exactly the last %d lines: %s", TailLines, msg)
	}
	if strings.Contains(msg, "\r") {
		t.Errorf("WaitFor error keeps carriage returns")
	}
}

func TestWaitForExit(t *testing.T) {
	vm := fakeVM()
	go func() {
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(vm.con, "panic\n")
		close(vm.done)
	}()
	_, err := vm.WaitFor(t.Context(), "login:")
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "panic") {
		t.Errorf("WaitFor after exit = %v, want ErrExited quoting the console", err)
	}
	// Text printed just before the exit is still found.
	vm2 := fakeVM()
	fmt.Fprint(vm2.con, "bye\n")
	close(vm2.done)
	if _, err := vm2.WaitFor(t.Context(), "bye"); err != nil {
		t.Errorf("WaitFor(bye) after exit = %v, want found", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) { w.n++; return 0, errors.New("closed") }

func TestConsoleTee(t *testing.T) {
	var buf bytes.Buffer
	c := newConsole(&buf)
	fmt.Fprint(c, "a")
	fmt.Fprint(c, "b")
	if buf.String() != "ab" {
		t.Errorf("tee got %q, want ab", buf.String())
	}
	fw := &failWriter{}
	c = newConsole(fw)
	fmt.Fprint(c, "a")
	fmt.Fprint(c, "b")
	if fw.n != 1 || c.String() != "ab" {
		t.Errorf("failing tee: %d writes, console %q; want 1 write, ab", fw.n, c.String())
	}
}
