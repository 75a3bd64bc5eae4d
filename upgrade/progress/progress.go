// Package progress holds what long copies of the upgrade share: a reader
// that stops when its context ends, a writer that reports how far a copy
// got, and the one-line rendering of that report for a terminal.
package progress

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Step is how often a Writer reports: at least every Step bytes.
const Step = 1 << 20

// Reader returns r failing its reads once ctx is done, so long copies can
// be cancelled between reads.
func Reader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Writer passes writes to W, counting them, and calls Report (when set)
// at least every Step bytes; Finish reports the final count.
type Writer struct {
	W      io.Writer
	Total  int64 // what Report is given as the total (≤ 0: unknown)
	Report func(done, total int64)

	done, reported int64
}

func (p *Writer) Write(b []byte) (int, error) {
	n, err := p.W.Write(b)
	p.done += int64(n)
	if p.done-p.reported >= Step {
		p.Finish()
	}
	return n, err
}

// Done is the count of bytes written so far.
func (p *Writer) Done() int64 { return p.done }

// Finish reports the current count (also used for the final report).
func (p *Writer) Finish() {
	p.reported = p.done
	if p.Report != nil {
		p.Report(p.done, p.Total)
	}
}

const barWidth = 20

// Format renders one progress line for a terminal:
//
//	[########............] 42% 12.3/29.0 MiB 3.1 MiB/s ETA 5s
//
// A total ≤ 0 (unknown) drops the bar, percentage and ETA; an elapsed time
// ≤ 0 drops the rate and ETA.
func Format(done, total int64, elapsed time.Duration) string {
	const mib = 1 << 20
	var parts []string
	if total > 0 {
		frac := min(max(float64(done)/float64(total), 0), 1)
		n := int(frac * barWidth)
		parts = append(parts,
			"["+strings.Repeat("#", n)+strings.Repeat(".", barWidth-n)+"]",
			fmt.Sprintf("%d%%", int(frac*100)),
			fmt.Sprintf("%.1f/%.1f MiB", float64(done)/mib, float64(total)/mib))
	} else {
		parts = append(parts, fmt.Sprintf("%.1f MiB", float64(done)/mib))
	}
	if elapsed > 0 {
		rate := float64(done) / elapsed.Seconds() // bytes per second
		parts = append(parts, formatRate(rate))
		if total > 0 && done < total && rate > 0 {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second))
			parts = append(parts, "ETA "+formatETA(eta))
		}
	}
	return strings.Join(parts, " ")
}

func formatRate(bps float64) string {
	if bps < 1<<20 {
		return fmt.Sprintf("%.0f KiB/s", bps/1024)
	}
	return fmt.Sprintf("%.1f MiB/s", bps/(1<<20))
}

// formatETA rounds up to whole seconds: 5s, 3m05s, 1h02m.
func formatETA(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}
