package install

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// chunk is the unit of every copy to the disk.
const chunk = 4 << 20

// patch replaces bytes of an image on its way to the disk.
type patch struct {
	off  int64 // offset in the image
	data []byte
}

// writeImage copies exactly n bytes from r to the disk at off, applying
// patches on the way. On an image file the region is first turned into a
// hole and all-zero chunks are skipped, so the file stays sparse; a block
// device gets every byte. progress, when set, is called with the bytes
// done after each chunk.
func (t *target) writeImage(ctx context.Context, off int64, r io.Reader, n int64, patches []patch, progress func(int64)) error {
	sparse := t.punchHole(off, n)
	buf := make([]byte, chunk)
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := int64(len(buf))
		if n-done < m {
			m = n - done
		}
		b := buf[:m]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("read at byte %d of %d: %w", done, n, err)
		}
		for _, p := range patches {
			lo, hi := max(p.off, done), min(p.off+int64(len(p.data)), done+m)
			if lo < hi {
				copy(b[lo-done:hi-done], p.data[lo-p.off:hi-p.off])
			}
		}
		if !(sparse && allZero(b)) {
			if _, err := t.f.WriteAt(b, off+done); err != nil {
				return fmt.Errorf("write %s at %d: %w", t.path, off+done, err)
			}
		}
		done += m
		if progress != nil {
			progress(done)
		}
	}
	return nil
}

// writeGzipImage writes the gzip-compressed image at path, which must
// expand to exactly size bytes, to the disk at off.
func (t *target) writeGzipImage(ctx context.Context, off int64, path string, size int64, patches []patch) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := t.writeImage(ctx, off, zr, size, patches, nil); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// One byte more is enough to know; reading to the end is not bounded.
	switch extra, err := io.CopyN(io.Discard, zr, 1); {
	case extra != 0:
		return fmt.Errorf("%s: expands to more than %d bytes", path, size)
	case !errors.Is(err, io.EOF): // io.EOF: nothing more
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// zero writes n zero bytes at off.
func (t *target) zero(off, n int64) error {
	if t.punchHole(off, n) {
		return nil
	}
	buf := make([]byte, min(n, chunk))
	for done := int64(0); done < n; {
		m := min(int64(len(buf)), n-done)
		if _, err := t.f.WriteAt(buf[:m], off+done); err != nil {
			return fmt.Errorf("zero %s at %d: %w", t.path, off+done, err)
		}
		done += m
	}
	return nil
}

// writePayload streams the payload file into the slot at off, syncs, and
// reads it back from the disk (past the page cache) to check its sha256,
// which it returns.
func (t *target) writePayload(ctx context.Context, off int64, path string, progress func(done, total int64)) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	n := fi.Size()
	h := sha256.New()
	err = t.writeImage(ctx, off, io.TeeReader(f, h), n, nil, func(done int64) {
		if progress != nil {
			progress(done, n)
		}
	})
	if err != nil {
		return "", err
	}
	want := hex.EncodeToString(h.Sum(nil))
	if err := t.f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", t.path, err)
	}
	if err := t.dropCache(off, n); err != nil {
		return "", err
	}
	got, err := t.hash(ctx, off, n)
	if err != nil {
		return "", err
	}
	if got != want {
		return "", fmt.Errorf("%w: read back sha256 %s, wrote %s", ErrVerify, got, want)
	}
	return want, nil
}

// hash returns the sha256 of n bytes of the disk at off.
func (t *target) hash(ctx context.Context, off, n int64) (string, error) {
	h := sha256.New()
	buf := make([]byte, chunk)
	r := io.NewSectionReader(t.f, off, n)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		m, err := io.ReadFull(r, buf)
		h.Write(buf[:m])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read back %s at %d: %w", t.path, off, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func allZero(b []byte) bool {
	// Compare in big steps: most chunks of a fresh image are all zero.
	var zero [4096]byte
	for len(b) > 0 {
		m := min(len(b), len(zero))
		if !bytes.Equal(b[:m], zero[:m]) {
			return false
		}
		b = b[m:]
	}
	return true
}
