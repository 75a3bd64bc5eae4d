package slot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// BlockSize is the unit Write and Hash move data in.
const BlockSize = 1 << 20

// More errors callers branch on.
var (
	// ErrTooBig: the payload is larger than the slot; nothing was written.
	ErrTooBig = errors.New("payload larger than the slot")
	// ErrShort: the reader ended before n bytes.
	ErrShort = errors.New("payload shorter than announced")
	// ErrHash: the slot does not read back as the expected sha256.
	ErrHash = errors.New("slot does not read back as written")
)

// Slot is one A/B slot: a partition device (Offset 0) or a range of a
// disk image file. It holds no open file; every operation opens its own.
type Slot struct {
	Name   string // "A" or "B"
	Path   string // partition device, or the image file
	Offset int64  // the slot's first byte in Path

	size     int64
	block    bool
	noDirect bool // tests: read back with BLKFLSBUF instead of O_DIRECT
}

// Size returns the slot's size in bytes.
func (s *Slot) Size() int64 { return s.size }

// IsDevice reports whether the slot is a block device.
func (s *Slot) IsDevice() bool { return s.block }

// Close releases the slot (nothing is held open between operations).
func (s *Slot) Close() error { return nil }

func (s *Slot) String() string {
	if s.Offset != 0 {
		return fmt.Sprintf("slot %s (%s at %d)", s.Name, s.Path, s.Offset)
	}
	return fmt.Sprintf("slot %s (%s)", s.Name, s.Path)
}

// Write streams exactly n bytes of r into the start of the slot in
// BlockSize writes, reporting the bytes done after each, then fsyncs. It
// refuses n larger than the slot (ErrTooBig) before opening it. A device
// is opened O_EXCL, so a slot that is mounted (the running one) is refused
// by the kernel. A reader that ends early gives ErrShort.
func (s *Slot) Write(ctx context.Context, r io.Reader, n int64, progress func(done int64)) error {
	if n < 0 {
		return fmt.Errorf("write %s: negative size %d", s, n)
	}
	if n > s.size {
		return fmt.Errorf("write %s: %w: payload is %d bytes, the slot holds %d", s, ErrTooBig, n, s.size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", s, err)
	}
	flags := os.O_WRONLY
	if s.block {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(s.Path, flags, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", s, err)
	}
	err = s.copy(ctx, f, r, n, progress)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s, err)
	}
	return nil
}

func (s *Slot) copy(ctx context.Context, f *os.File, r io.Reader, n int64, progress func(int64)) error {
	buf := make([]byte, BlockSize)
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := buf[:min(int64(len(buf)), n-done)]
		got, err := io.ReadFull(r, chunk)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%w: got %d of %d bytes", ErrShort, done+int64(got), n)
			}
			return fmt.Errorf("read payload: %w", err)
		}
		if _, err := f.WriteAt(chunk, s.Offset+done); err != nil {
			return err
		}
		done += int64(len(chunk))
		if progress != nil {
			progress(done)
		}
	}
	return nil
}
