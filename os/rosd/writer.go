package rosd

import (
	"io"
	"sync"
)

// lockedWriter serialises writes from the stdout and stderr copiers of a
// process sharing one writer, flushing after each when it can.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if f, ok := l.w.(interface{ Flush() }); ok {
		f.Flush()
	}
	return n, err
}
