package bench

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lineClock is a serial console tee (qemu.Config.Console) that stamps each
// complete line with the wall time since start.
type lineClock struct {
	start time.Time

	mu      sync.Mutex
	partial []byte
	lines   []stampedLine
}

// stampedLine is one console line and when it arrived.
type stampedLine struct {
	at   time.Duration
	text string
}

func (c *lineClock) Write(p []byte) (int, error) {
	at := time.Since(c.start)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		text := strings.TrimRight(string(c.partial[:i]), "\r")
		c.lines = append(c.lines, stampedLine{at: at, text: text})
		c.partial = c.partial[i+1:]
	}
	return len(p), nil
}

// Lines returns the complete lines so far.
func (c *lineClock) Lines() []stampedLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]stampedLine(nil), c.lines...)
}

// phase is one boot phase as logged on the console.
type phase struct {
	stage string // "initrd" (stage 1) or "init" (stage 2, PID 1)
	name  string
	took  time.Duration
}

// bootLog is what a ros boot console says about where the time went. The
// *At fields are wall times since QEMU started (zero when not seen); the
// uptimes are the kernel's own clock.
type bootLog struct {
	stage1Uptime time.Duration // kernel uptime when stage 1 started
	rootUptime   time.Duration // kernel uptime when the root was ready
	stage1At     time.Duration // "ros-initrd: stage 1 starting"
	rootAt       time.Duration // "ros-initrd: root ready at kernel uptime"
	bootDoneAt   time.Duration // "ros init: boot done in": PID 1's phases are over
	readyAt      time.Duration // "ros: services ready"
	phases       []phase
}

var (
	stage1Line = regexp.MustCompile(`ros-initrd: stage 1 starting \(kernel uptime ([0-9.]+)s\)`)
	rootLine   = regexp.MustCompile(`ros-initrd: root ready at kernel uptime ([0-9.]+)s`)
	phaseLine  = regexp.MustCompile(`(ros-initrd|ros init): phase (\S+) done in (\d+)ms`)
	bootDone   = regexp.MustCompile(`ros init: boot done in \d+ms`)
)

// parseBootLog reads the stamped console of a ros boot.
func parseBootLog(lines []stampedLine) bootLog {
	var l bootLog
	for _, ln := range lines {
		if m := stage1Line.FindStringSubmatch(ln.text); m != nil && l.stage1At == 0 {
			l.stage1At, l.stage1Uptime = ln.at, seconds(m[1])
		}
		if m := rootLine.FindStringSubmatch(ln.text); m != nil && l.rootAt == 0 {
			l.rootAt, l.rootUptime = ln.at, seconds(m[1])
		}
		if m := phaseLine.FindStringSubmatch(ln.text); m != nil {
			stage := "init"
			if m[1] == "ros-initrd" {
				stage = "initrd"
			}
			n, _ := strconv.Atoi(m[3])
			l.phases = append(l.phases, phase{stage: stage, name: m[2], took: time.Duration(n) * time.Millisecond})
		}
		if bootDone.MatchString(ln.text) && l.bootDoneAt == 0 {
			l.bootDoneAt = ln.at
		}
		if strings.Contains(ln.text, readyLine) && l.readyAt == 0 {
			l.readyAt = ln.at
		}
	}
	return l
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// split is the boot cut into consecutive wall-clock spans that add up to
// the time to services ready: firmware and boot loader (until the kernel
// starts, i.e. stage 1's wall time minus its kernel uptime), kernel (to
// stage 1), stage 1 (to the root ready), stage 2 (to services ready).
// Stage 2 is init (PID 1's phases, to "boot done") plus services
// (containerd, rosd and the services, to services ready); both are zero
// when PID 1 did not say "boot done".
type split struct {
	firmware, kernel, stage1, stage2 time.Duration
	init, services                   time.Duration
}

func (l bootLog) split() (split, bool) {
	if l.stage1At == 0 || l.rootAt == 0 || l.readyAt == 0 {
		return split{}, false
	}
	s := split{
		firmware: l.stage1At - l.stage1Uptime,
		kernel:   l.stage1Uptime,
		stage1:   l.rootAt - l.stage1At,
		stage2:   l.readyAt - l.rootAt,
	}
	if l.bootDoneAt > l.rootAt && l.bootDoneAt <= l.readyAt {
		s.init, s.services = l.bootDoneAt-l.rootAt, l.readyAt-l.bootDoneAt
	}
	return s, true
}

// report renders the log in three lines for b.Logf (the testing package
// keeps only ten lines of a benchmark's log): the spans, then stage 1's
// and stage 2's phases, each with its share of the time to services ready.
func (l bootLog) report(ready time.Duration) string {
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / ready.Seconds() }
	var sb strings.Builder
	if s, ok := l.split(); ok {
		fmt.Fprintf(&sb, "  spans: firmware+loader %.1f s (%.0f%%), kernel %.1f s (%.0f%%), stage 1 %.1f s (%.0f%%; root ready at uptime %.2f s), "+
			"stage 2 %.1f s (%.0f%%: init phases %.1f s, containerd+rosd+services %.1f s)",
			s.firmware.Seconds(), pct(s.firmware), s.kernel.Seconds(), pct(s.kernel),
			s.stage1.Seconds(), pct(s.stage1), l.rootUptime.Seconds(),
			s.stage2.Seconds(), pct(s.stage2), s.init.Seconds(), s.services.Seconds())
	} else {
		fmt.Fprintf(&sb, "  spans: markers missing (stage 1 at %v, root ready at %v, services ready at %v)", l.stage1At, l.rootAt, l.readyAt)
	}
	for _, stage := range []string{"initrd", "init"} {
		fmt.Fprintf(&sb, "\n  %s phases:", stage)
		for _, p := range l.phases {
			if p.stage == stage {
				fmt.Fprintf(&sb, " %s %dms (%.1f%%)", p.name, p.took.Milliseconds(), pct(p.took))
			}
		}
	}
	return sb.String()
}
