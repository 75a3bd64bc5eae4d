package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/sshcheck"
)

// Helpers shared by the cloud-config, service and Docker tests: running
// `ros` on the machine, waiting for a condition, rebooting.

// rosHint ends the failure of a `ros` command: those commands are issue 4's
// API and CLI.
const rosHint = "(the ros CLI talks to rosd over /run/ros/ros.sock; issue 4)"

// with returns m reporting to t (a subtest): helpers call t.Fatal, which
// must run on the test's own goroutine.
func (m *machine) with(t *testing.T) *machine {
	c := *m
	c.t = t
	return &c
}

// ros runs `ros ARGS` as user ros and returns its output; a non-zero exit
// fails the test.
func (m *machine) ros(args string) string {
	m.t.Helper()
	out, code := m.sshCode("ros " + args)
	if code != 0 {
		m.t.Fatalf("ros %s: exit %d %s:\n%s", args, code, rosHint, out)
	}
	return out
}

// put writes data to path on the machine (as user ros).
func (m *machine) put(path string, data []byte) {
	m.t.Helper()
	if out, code := m.sshAs("ros", m.key, "cat > "+path, bytes.NewReader(data)); code != 0 {
		m.t.Fatalf("write %s on the machine: exit %d: %s", path, code, out)
	}
}

// canLogin reports whether user can log in with key within a minute.
func (m *machine) canLogin(user string, key []byte) error {
	return m.waitLogin(user, key, time.Minute)
}

// waitLogin waits until user can log in with key, trying every few
// seconds for up to timeout.
func (m *machine) waitLogin(user string, key []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(m.t.Context(), timeout)
	defer cancel()
	c, err := sshcheck.Dial(ctx, sshcheck.Options{Addr: fmt.Sprintf("127.0.0.1:%d", m.vm.SSHPort()), User: user, Key: key,
		RetryInterval: 2 * time.Second})
	if err != nil {
		return err
	}
	return c.Close()
}

// watchConsole starts watching the console for re and returns a function
// that says when re first showed (and whether it has). The watch owns the
// console's WaitFor cursor until re shows or the test ends: do not call
// waitReady (or reboot) meanwhile.
func (m *machine) watchConsole(re *regexp.Regexp) func() (time.Time, bool) {
	var (
		mu   sync.Mutex
		at   time.Time
		seen bool
	)
	ctx, cancel := context.WithCancel(m.t.Context())
	done := make(chan struct{})
	m.t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		if _, err := m.vm.WaitForRegexp(ctx, re); err == nil {
			mu.Lock()
			at, seen = time.Now(), true
			mu.Unlock()
		}
	}()
	return func() (time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		return at, seen
	}
}

// service is the part of pkg/api's Service the tests look at (JSON field
// names match without regard to case).
type service struct {
	Name      string
	Origin    string
	Enabled   bool
	State     string
	PID       int
	Restarts  int
	LastError string
	// LastErrorSnake catches the snake_case spelling of the same field.
	LastErrorSnake string `json:"last_error"`
}

// services runs `ros service list -o json`.
func (m *machine) services() map[string]service {
	m.t.Helper()
	out := m.ros("service list -o json")
	var list []service
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		m.t.Fatalf("ros service list -o json: %v %s:\n%s", err, rosHint, out)
	}
	byName := map[string]service{}
	for _, s := range list {
		byName[s.Name] = s
	}
	return byName
}

// notRunning lists the services of list whose state is not running.
func notRunning(list map[string]service) []string {
	var bad []string
	for _, s := range list {
		if s.State != "running" {
			bad = append(bad, fmt.Sprintf("%s=%s %s%s", s.Name, s.State, s.LastError, s.LastErrorSnake))
		}
	}
	return bad
}

// errNotYet is what an eventually condition returns while it waits.
var errNotYet = errors.New("not yet")

// eventually polls cond every two seconds until it returns nil or timeout
// passes; then the test fails with what, and cond's last error.
func (m *machine) eventually(what string, timeout time.Duration, cond func() error) {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		select {
		case <-m.t.Context().Done():
			m.t.Fatalf("%s: %v", what, m.t.Context().Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// reboot powers the machine off with the ACPI power button (an orderly
// shutdown: rosd and the filesystems finish their writes), then boots next
// (the same disk, perhaps another seed) and waits for services ready. m
// then drives the new VM.
func (m *machine) reboot(next qemu.Config) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), 5*time.Minute)
	defer cancel()
	if err := m.vm.Shutdown(ctx); err != nil {
		m.t.Fatalf("power off before reboot: vm.Shutdown() = %v", err)
	}
	if err := m.vm.Wait(ctx); err != nil {
		m.t.Fatalf("power off before reboot: qemu exit = %v", err)
	}
	m.vm.Close()
	m.cfg = next
	m.vm = qemutest.Start(m.t, withSSH(next))
	m.waitReady()
}

// field returns the n-th whitespace-separated field of s, or "".
func field(s string, n int) string {
	f := strings.Fields(s)
	if n < len(f) {
		return f[n]
	}
	return ""
}

// readFile reads a host file or fails the test.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
