package rosd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// followPoll is how often a followed log is checked for new output.
const followPoll = 250 * time.Millisecond

// logPath is where a service's output goes.
func (d *daemon) logPath(name string) string {
	return filepath.Join(d.opts.LogDir, name+".log")
}

// writeLogs copies the last lines lines of path to w (all of it when lines
// is 0 or less); with follow it then copies what is appended until ctx is
// done. A log that does not exist yet is empty.
func writeLogs(ctx context.Context, path string, lines int, follow bool, w io.Writer) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && follow {
		// The service has not written anything yet: wait for it.
		for errors.Is(err, fs.ErrNotExist) {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(followPoll):
			}
			f, err = os.Open(path)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	if lines > 0 {
		off, err := tailOffset(f, lines)
		if err != nil {
			return fmt.Errorf("read log %s: %w", path, err)
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("read log %s: %w", path, err)
		}
	}
	flush := func() {
		if fl, ok := w.(interface{ Flush() }); ok {
			fl.Flush()
		}
	}
	for {
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("copy log %s: %w", path, err)
		}
		flush()
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followPoll):
		}
	}
}

// tailOffset returns the offset of the start of the last n lines of f. A
// final line without a newline counts as a line.
func tailOffset(f *os.File, n int) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	const chunk = 8192
	buf := make([]byte, chunk)
	seen := 0
	pos := size
	// A trailing newline ends the last line; it does not start another.
	skipLast := true
	for pos > 0 {
		step := int64(chunk)
		if pos < step {
			step = pos
		}
		pos -= step
		if _, err := f.ReadAt(buf[:step], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		b := buf[:step]
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != '\n' {
				skipLast = false
				continue
			}
			if skipLast && pos+int64(i) == size-1 {
				skipLast = false
				continue
			}
			seen++
			if seen == n {
				return pos + int64(i) + 1, nil
			}
		}
	}
	return 0, nil
}
