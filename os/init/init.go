package rosinit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/ros-os/ros/pkg/supervisor"
)

// ErrNotPID1 is returned by Main when it is not process 1.
var ErrNotPID1 = errors.New("ros init must run as PID 1")

// Init is a running PID 1.
type Init struct {
	cfg    Config
	reaper *supervisor.Reaper
	conMu  sync.Mutex

	containerd, daemon *supervised
	power              chan struct{} // a power key was pressed
}

// supervised is a process kept running by Supervise until stop.
type supervised struct {
	stop context.CancelFunc
	done chan struct{}
}

// Main is PID 1 (argv[0] "init"): boot, supervise containerd and the ros
// daemon, reap orphans, and on a signal (see Signals) or a press of the
// power button shut down and reboot, halt or power off. It returns only if the final reboot(2) fails; PID 1
// returning panics the kernel, which then reboots if panic= is set.
func Main(ctx context.Context, args []string) error {
	if os.Getpid() != 1 {
		return ErrNotPID1
	}
	return New(DefaultConfig()).Run(ctx)
}

// New returns a PID 1 configured by cfg.
func New(cfg Config) *Init {
	return &Init{cfg: cfg, reaper: supervisor.NewReaper(), power: make(chan struct{}, 1)}
}

// SystemOOMScoreAdj is the oom_score_adj of containerd and the ros daemon:
// the kernel's OOM killer takes them last, after any workload (0) and any
// system service (rosd gives those -900 unless their YAML says otherwise).
// Not -1000: a leaking daemon must still be killable, and init restarts it.
const SystemOOMScoreAdj = -999

// Run boots, waits for a shutdown signal or the power button, shuts down,
// and calls reboot(2).
func (i *Init) Run(ctx context.Context) error {
	// Subscribe first: a signal during boot is acted on after it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, Signals...)
	i.absorbSignals(ctx)
	go i.reaper.Loop(context.WithoutCancel(ctx), nil)

	start := time.Now()
	RunPhases(ctx, i, nil, i.bootPhases())
	i.containerd = i.supervise(ctx, &supervisor.Process{
		ID: "containerd", Path: i.cfg.ContainerdPath, Args: []string{"--config", i.cfg.ContainerdConfig},
		Env: i.cfg.Env, LogPath: i.cfg.ContainerdLog, Reaper: i.reaper, Grace: i.cfg.Grace,
		OOMScoreAdj: SystemOOMScoreAdj, Warn: i.warn,
	})
	i.daemon = i.supervise(ctx, &supervisor.Process{
		ID: "ros daemon", Path: i.cfg.RosPath, Args: []string{"daemon"},
		Env: i.cfg.Env, LogPath: i.cfg.RosLog, Reaper: i.reaper,
		// The daemon gives its services Grace; give it that and more.
		Grace:       2*i.cfg.Grace + 5*time.Second,
		OOMScoreAdj: SystemOOMScoreAdj, Warn: i.warn,
	})
	i.say("boot done in %s", ms(time.Since(start)))
	// The boot phases read every module file into the heap; PID 1 then
	// mostly waits, so give those pages back now rather than over minutes.
	debug.FreeOSMemory()

	var action Action
	for action == ActionNone {
		select {
		case s := <-sigs:
			action = ActionFor(s)
			i.say("received %s: %s", s, action)
		case <-i.power:
			action = ActionPoweroff
			i.say("power button pressed")
		case <-ctx.Done():
			action = ActionReboot
		}
	}
	RunPhases(context.WithoutCancel(ctx), i, nil, i.shutdownPhases(action))
	i.say("%s", action)
	err := i.cfg.Sys.Reboot(action.RebootCmd())
	return fmt.Errorf("reboot(%s): %w", action, err)
}

// warn says a supervised process's non-fatal problem on the console.
func (i *Init) warn(err error) { i.say("warning: %v", err) }

// Write makes Init the io.Writer phases log to: the console.
func (i *Init) Write(p []byte) (int, error) {
	i.conMu.Lock()
	defer i.conMu.Unlock()
	return i.cfg.Console.Write(p)
}

// say prints one "ros init: " line on the console.
func (i *Init) say(format string, args ...any) {
	fmt.Fprintf(i, Prefix+format+"\n", args...)
}

// absorbedSignals would end a Go program by default, and PID 1 ending
// panics the kernel. They are caught (not ignored: SIG_IGN would be
// inherited by every program PID 1 starts) and logged.
var absorbedSignals = []os.Signal{
	syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE, syscall.SIGALRM, syscall.SIGVTALRM,
	syscall.SIGXCPU, syscall.SIGXFSZ, syscall.SIGSTKFLT, syscall.SIGIO, syscall.SIGTSTP,
	syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPROF, syscall.SIGSYS, syscall.SIGTRAP,
}

func (i *Init) absorbSignals(ctx context.Context) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, absorbedSignals...)
	go func() {
		for {
			select {
			case s := <-ch:
				i.say("ignoring %s", s)
			case <-ctx.Done():
				return
			}
		}
	}()
}

func (i *Init) supervise(ctx context.Context, p *supervisor.Process) *supervised {
	ctx, cancel := context.WithCancel(ctx)
	s := &supervised{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = supervisor.Supervise(ctx, p, supervisor.Policy{Backoff: i.cfg.Backoff, OnEvent: func(e supervisor.Event) {
			switch e.State {
			case supervisor.StateRunning, supervisor.StateExited, supervisor.StateWaiting:
				i.say("%s", e)
			}
		}})
	}()
	return s
}
