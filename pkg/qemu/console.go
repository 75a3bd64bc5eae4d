package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// TailLines is how many console lines a WaitFor error quotes.
const TailLines = 40

// console collects the serial console output. It is the QEMU process's
// stdout. WaitFor searches it expect-style: from a cursor that each match
// moves past the matched text, so waiting twice for the same marker waits
// for it to be printed twice.
type console struct {
	tee io.Writer

	mu      sync.Mutex
	buf     []byte
	cursor  int
	changed chan struct{} // closed and replaced on every write
	teeErr  bool
}

func newConsole(tee io.Writer) *console {
	return &console{tee: tee, changed: make(chan struct{})}
}

// Write appends p; it never fails (a failing tee is dropped).
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf = append(c.buf, p...)
	ch := c.changed
	c.changed = make(chan struct{})
	tee := c.tee
	if c.teeErr {
		tee = nil
	}
	c.mu.Unlock()
	close(ch)
	if tee != nil {
		if _, err := tee.Write(p); err != nil {
			c.mu.Lock()
			c.teeErr = true
			c.mu.Unlock()
		}
	}
	return len(p), nil
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

// tail returns the last n lines, carriage returns removed.
func (c *console) tail(n int) string {
	c.mu.Lock()
	text := strings.ReplaceAll(string(c.buf), "\r", "")
	c.mu.Unlock()
	text = strings.TrimRight(text, "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor blocks until find matches the output after the cursor, ctx ends
// or exited is closed (after which the whole output is in). find returns
// the match's start and end within the searched bytes, or -1.
func (c *console) waitFor(ctx context.Context, exited <-chan struct{}, find func([]byte) []int) ([]int, []byte, error) {
	for {
		c.mu.Lock()
		base := c.cursor
		if loc := find(c.buf[base:]); loc != nil {
			c.cursor = base + loc[1]
			seen := bytes.Clone(c.buf[base:c.cursor])
			c.mu.Unlock()
			return loc, seen, nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-exited:
			c.mu.Lock()
			loc := find(c.buf[base:])
			if loc != nil {
				c.cursor = base + loc[1]
				seen := bytes.Clone(c.buf[base:c.cursor])
				c.mu.Unlock()
				return loc, seen, nil
			}
			c.mu.Unlock()
			return nil, nil, ErrExited
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// WaitFor waits until text appears on the console after the previous
// match, and returns the console output from there up to the end of text.
// On timeout or QEMU exit the error quotes the last TailLines console lines.
func (vm *VM) WaitFor(ctx context.Context, text string) (string, error) {
	_, seen, err := vm.con.waitFor(ctx, vm.done, func(b []byte) []int {
		i := bytes.Index(b, []byte(text))
		if i < 0 {
			return nil
		}
		return []int{i, i + len(text)}
	})
	if err != nil {
		return "", vm.waitError(fmt.Sprintf("%q", text), err)
	}
	return string(seen), nil
}

// WaitForRegexp waits until re matches the console after the previous match
// and returns the match and its submatches (as FindSubmatch). A regexp
// cannot match across the cursor, and matches only text already printed:
// prefer patterns that end in a fixed string or a newline.
func (vm *VM) WaitForRegexp(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	var m [][]byte
	_, _, err := vm.con.waitFor(ctx, vm.done, func(b []byte) []int {
		loc := re.FindSubmatchIndex(b)
		if loc == nil {
			return nil
		}
		m = make([][]byte, len(loc)/2)
		for i := range m {
			if loc[2*i] >= 0 {
				m[i] = b[loc[2*i]:loc[2*i+1]]
			}
		}
		return loc[:2]
	})
	if err != nil {
		return nil, vm.waitError(re.String(), err)
	}
	out := make([]string, len(m))
	for i, s := range m {
		out[i] = string(s)
	}
	return out, nil
}

func (vm *VM) waitError(what string, err error) error {
	detail := fmt.Sprintf("last %d console lines:\n%s", TailLines, vm.con.tail(TailLines))
	if errors.Is(err, ErrExited) {
		if exit := vm.exitErr(); exit != nil {
			detail += "\n" + exit.Error()
		}
	}
	return fmt.Errorf("wait for %s on console: %w\n%s", what, err, detail)
}

// Console returns everything the serial console printed so far.
func (vm *VM) Console() string { return vm.con.String() }

// ConsoleTail returns the last n lines of the console, carriage returns removed.
func (vm *VM) ConsoleTail(n int) string { return vm.con.tail(n) }
