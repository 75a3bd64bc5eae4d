package slot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// directAlign is the buffer and size alignment used for O_DIRECT reads
// (covers 512-byte and 4 KiB logical blocks).
const directAlign = 4096

// Hash returns the hex sha256 of the slot's first n bytes, read from the
// disk rather than the page cache: a device is read with O_DIRECT (or,
// where that is refused, after fsync and BLKFLSBUF); an image file is
// fsynced and its cached pages dropped (posix_fadvise DONTNEED) first.
func (s *Slot) Hash(ctx context.Context, n int64) (string, error) {
	if n < 0 || n > s.size {
		return "", fmt.Errorf("read back %s: %d bytes, the slot holds %d", s, n, s.size)
	}
	h := sha256.New()
	var err error
	if s.block {
		err = s.hashDevice(ctx, h, n)
	} else {
		err = s.hashFile(ctx, h, n)
	}
	if err != nil {
		return "", fmt.Errorf("read back %s: %w", s, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify reads back the slot's first n bytes (as Hash) and compares their
// sha256 with want (hex); a mismatch is ErrHash.
func (s *Slot) Verify(ctx context.Context, n int64, want string) error {
	got, err := s.Hash(ctx, n)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("%s: %w: %d bytes read back have sha256 %s, want %s", s, ErrHash, n, got, want)
	}
	return nil
}

func (s *Slot) hashDevice(ctx context.Context, h hash.Hash, n int64) error {
	f, err := os.OpenFile(s.Path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err == nil && s.noDirect {
		f.Close()
		err = unix.EINVAL
	}
	if err == nil {
		err = readDirect(ctx, f, h, s.Offset, n, s.size)
		f.Close()
		if !errors.Is(err, unix.EINVAL) {
			return err
		}
		h.Reset() // O_DIRECT refused mid-way: start again without it
	}
	f, err = os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	if err := unix.IoctlSetInt(int(f.Fd()), unix.BLKFLSBUF, 0); err != nil {
		return fmt.Errorf("flush buffer cache (BLKFLSBUF): %w", err)
	}
	return readPlain(ctx, f, h, s.Offset, n)
}

func (s *Slot) hashFile(ctx context.Context, h hash.Hash, n int64) error {
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	if err := unix.Fadvise(int(f.Fd()), s.Offset, n, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop cached pages: %w", err)
	}
	return readPlain(ctx, f, h, s.Offset, n)
}

func readPlain(ctx context.Context, f *os.File, h hash.Hash, off, n int64) error {
	buf := make([]byte, BlockSize)
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := buf[:min(int64(len(buf)), n-done)]
		if _, err := f.ReadAt(chunk, off+done); err != nil {
			return err
		}
		h.Write(chunk)
		done += int64(len(chunk))
	}
	return nil
}

// readDirect hashes n bytes at off with O_DIRECT reads: aligned buffer,
// aligned lengths (the last read rounded up within limit, the slot size).
func readDirect(ctx context.Context, f *os.File, h hash.Hash, off, n, limit int64) error {
	if off%directAlign != 0 {
		return unix.EINVAL
	}
	buf := alignedBuffer(BlockSize, directAlign)
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := min(int64(len(buf)), n-done)
		read := (want + directAlign - 1) / directAlign * directAlign
		if done+read > limit {
			return unix.EINVAL // cannot round up inside the slot
		}
		got, err := f.ReadAt(buf[:read], off+done)
		if int64(got) < want {
			if err == nil {
				err = fmt.Errorf("short read: %d of %d bytes", got, want)
			}
			return err
		}
		h.Write(buf[:want])
		done += want
	}
	return nil
}

// alignedBuffer returns size bytes starting at an address aligned to align.
func alignedBuffer(size, align int) []byte {
	b := make([]byte, size+align)
	skip := 0
	//nolint:gosec // G103: only the address is read, to align O_DIRECT reads
	if r := int(uintptr(unsafe.Pointer(&b[0])) & uintptr(align-1)); r != 0 {
		skip = align - r
	}
	return b[skip : skip+size]
}
