package supervisor

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReaperRoutesAndReapsOrphans(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	r := NewReaper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	orphans := make(chan Exit, 4)
	go r.Loop(ctx, func(e Exit) { orphans <- e })

	// A child nobody waits for: the reaper must collect it as an orphan.
	stray := exec.Command("sh", "-c", "exit 7")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	// A routed child: its status must reach its owner, not the orphan list.
	err := r.Run(ctx, exec.Command("sh", "-c", "exit 3"))
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Errorf("Run(exit 3) = %v, want exit status 3", err)
	}
	select {
	case e := <-orphans:
		if e.PID != stray.Process.Pid || e.Status.ExitStatus() != 7 {
			t.Errorf("orphan = pid %d status %d, want pid %d status 7", e.PID, e.Status.ExitStatus(), stray.Process.Pid)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("orphan not reaped")
	}
	// Watch after the orphan was reaped still gets its status.
	select {
	case e := <-r.Watch(stray.Process.Pid):
		if e.Status.ExitStatus() != 7 {
			t.Errorf("late Watch status = %d, want 7", e.Status.ExitStatus())
		}
	case <-time.After(time.Second):
		t.Error("late Watch got nothing")
	}
}

func TestReaperStartRejectsPipes(t *testing.T) {
	cmd := exec.Command("true")
	cmd.Stdout = &discard{}
	if _, err := NewReaper().Start(cmd); !errors.Is(err, ErrNotFile) {
		t.Errorf("Start(stdout=writer) = %v, want ErrNotFile", err)
	}
}

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }

func TestExitErr(t *testing.T) {
	tests := []struct {
		ws   syscall.WaitStatus
		want string
	}{
		{0, ""},
		{syscall.WaitStatus(2 << 8), "exit status 2"},
		{syscall.WaitStatus(syscall.SIGKILL), "killed by signal SIGKILL"},
	}
	for _, tt := range tests {
		got := ""
		if err := (Exit{Status: tt.ws}).Err(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Exit{%#x}.Err() = %q, want %q", int(tt.ws), got, tt.want)
		}
	}
}

func TestExitWaitErr(t *testing.T) {
	e := Exit{PID: 42, WaitErr: syscall.ECHILD}
	if err := e.Err(); !errors.Is(err, syscall.ECHILD) || !strings.Contains(err.Error(), "pid 42") {
		t.Errorf("Exit{WaitErr: ECHILD}.Err() = %v, want an error naming pid 42 and wrapping ECHILD", err)
	}
}
