package supervisor

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessRun(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	for _, withReaper := range []bool{false, true} {
		t.Run(map[bool]string{false: "os/exec", true: "reaper"}[withReaper], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var r *Reaper
			if withReaper {
				r = NewReaper()
				go r.Loop(ctx, nil)
			}
			log := filepath.Join(t.TempDir(), "out.log")
			p := &Process{ID: "t", Path: "/bin/sh", Args: []string{"-c", "echo hello; exit 4"}, LogPath: log, Reaper: r}
			started := false
			err := p.Run(ctx, func() { started = true })
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != 4 {
				t.Errorf("Run() = %v, want exit status 4", err)
			}
			if !started {
				t.Error("started not called")
			}
			if b, _ := os.ReadFile(log); strings.TrimSpace(string(b)) != "hello" {
				t.Errorf("log = %q, want hello", b)
			}

			// Stopping: SIGTERM is trapped and ignored, so SIGKILL must follow the grace.
			stopCtx, stop := context.WithCancel(ctx)
			p = &Process{ID: "t", Path: "/bin/sh", Args: []string{"-c", "trap '' TERM; while :; do sleep 0.05; done"},
				Reaper: r, Grace: 200 * time.Millisecond}
			done := make(chan error, 1)
			go func() { done <- p.Run(stopCtx, func() { time.AfterFunc(100*time.Millisecond, stop) }) }()
			select {
			case err := <-done:
				if !errors.As(err, &ee) || ee.Signal != "SIGKILL" {
					t.Errorf("Run() after stop = %v, want killed by SIGKILL", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("process not stopped")
			}
		})
	}
}

func TestProcessDetach(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := &Process{ID: "t", Path: "/bin/sh", Args: []string{"-c", "echo $$ > " + pidFile + "; exec sleep 30"}}
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, func() {
			for i := 0; i < 200; i++ {
				if b, _ := os.ReadFile(pidFile); len(b) > 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel(ErrDetach)
		})
	}()
	if err := <-done; err != nil {
		t.Fatalf("Run() detached = %v, want nil", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }()
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("detached process %d: %v, want it left running", pid, err)
	}
}

func TestProcessOOMScoreAdj(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The child waits on the FIFO until started, which runs after the
	// write, so it reads the score it was given rather than racing it.
	script := "read x < " + fifo + "; cat /proc/self/oom_score_adj"
	tests := []struct {
		score   int
		want    string
		wantErr bool
	}{
		{score: 0, want: "inherited"},
		{score: 500, want: "500"},
		{score: 2000, want: "inherited", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.score), func(t *testing.T) {
			inherited, err := os.ReadFile("/proc/self/oom_score_adj")
			if err != nil {
				t.Skip("no /proc/self/oom_score_adj")
			}
			want := tt.want
			if want == "inherited" {
				want = strings.TrimSpace(string(inherited))
			}
			log := filepath.Join(dir, "out-"+strconv.Itoa(tt.score))
			var warned error
			p := &Process{ID: "t", Path: "/bin/sh", Args: []string{"-c", script}, LogPath: log, OOMScoreAdj: tt.score,
				Warn: func(err error) { warned = err }}
			err = p.Run(context.Background(), func() {
				if err := os.WriteFile(fifo, []byte("go\n"), 0); err != nil {
					t.Errorf("write fifo: %v", err)
				}
			})
			if tt.wantErr != (warned != nil) || (warned != nil && !strings.Contains(warned.Error(), "oom_score_adj")) {
				t.Errorf("Run(OOMScoreAdj %d) warned %v, want a warning naming oom_score_adj: %v", tt.score, warned, tt.wantErr)
			}
			if err != nil {
				t.Fatalf("Run(OOMScoreAdj %d) = %v", tt.score, err)
			}
			if b, _ := os.ReadFile(log); strings.TrimSpace(string(b)) != want {
				t.Errorf("oom_score_adj seen by the child = %q, want %q", b, want)
			}
		})
	}
}
