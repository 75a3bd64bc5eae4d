// Package fetch downloads a bundle file to a local path from a local path,
// file://, http(s):// (resumable), an OCI archive (oci-archive:PATH[:TAG])
// or a container registry (REGISTRY/NAME:TAG or docker://…), checking the
// expected size and sha256 when they are known.
//
// Downloads go to dst+".part" and are renamed to dst only when complete and
// checked, so dst never holds a partial or unverified file.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"os"
	"time"

	"github.com/ros-os/ros/upgrade/progress"
)

// Sentinel errors.
var (
	// ErrNotFound: the source does not exist (HTTP 404/410, missing file).
	ErrNotFound = errors.New("not found")
	// ErrSize: the download's size differs from Options.Size.
	ErrSize = errors.New("size mismatch")
	// ErrHash: the download's sha256 differs from Options.SHA256.
	ErrHash = errors.New("sha256 mismatch")
)

// Options tune a Fetch. All fields are optional.
type Options struct {
	// Client does HTTP(S) and registry requests; nil means http.DefaultClient.
	Client *http.Client
	// Size and SHA256 (lowercase hex) are the expected file; 0 and "" skip
	// the checks. On a sha256 mismatch the partial file is deleted.
	Size   int64
	SHA256 string
	// Progress is called with bytes done and the total (-1 if unknown) at
	// the start, at least every MiB, and on completion.
	Progress func(done, total int64)
	// Attempts is how many HTTP requests one Fetch may make, resuming after
	// a broken connection or a 5xx answer; 0 means 5.
	Attempts int
	// RetryDelay is the wait before the second attempt, growing linearly
	// after it; 0 means one second.
	RetryDelay time.Duration
	// Arch picks the image from a multi-arch registry index; "" means the
	// running GOARCH.
	Arch string
}

// Fetch copies src to dst, or does nothing but check dst when src is dst.
// The source kinds are described at ParseSource. Errors name src.
func Fetch(ctx context.Context, src, dst string, o Options) error {
	s, err := ParseSource(src)
	if err != nil {
		return err
	}
	switch s.Kind {
	case KindHTTP:
		err = fetchHTTP(ctx, s.URL, dst, o)
	case KindOCIArchive:
		err = fetchArchive(ctx, s.Path, s.Ref, dst, o)
	case KindRegistry:
		err = fetchRegistry(ctx, s.Ref, dst, o)
	default:
		err = fetchFile(ctx, s.Path, dst, o)
	}
	if err != nil {
		return fmt.Errorf("fetch %s: %w", src, err)
	}
	return nil
}

// download is a file being written at dst+".part".
type download struct {
	dst, part string
	f         *os.File
	o         Options
	h         hash.Hash
	done      int64 // bytes in the part file
	total     int64 // expected total, -1 if unknown
	reported  int64
}

// create starts a fresh part file.
func create(dst string, o Options) (*download, error) {
	d := &download{dst: dst, part: dst + ".part", o: o, total: -1, h: newHash()}
	f, err := os.OpenFile(d.part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	d.f = f
	if o.Size > 0 {
		d.total = o.Size
	}
	return d, nil
}

// Write appends to the part file, hashing and reporting progress.
func (d *download) Write(p []byte) (int, error) {
	n, err := d.f.Write(p)
	d.h.Write(p[:n])
	d.done += int64(n)
	if d.done-d.reported >= progress.Step {
		d.report()
	}
	if err != nil {
		return n, fmt.Errorf("write %s: %w", d.part, err)
	}
	return n, nil
}

func (d *download) report() {
	d.reported = d.done
	if d.o.Progress != nil {
		d.o.Progress(d.done, d.total)
	}
}

// finish checks size and hash, syncs and renames the part file to dst.
// A wrong hash deletes the part file: resuming it could never succeed.
func (d *download) finish() error {
	d.report()
	if d.o.Size > 0 && d.done != d.o.Size {
		d.discard()
		return fmt.Errorf("%w: got %d bytes, want %d", ErrSize, d.done, d.o.Size)
	}
	if d.o.SHA256 != "" {
		if got := hex.EncodeToString(d.h.Sum(nil)); got != d.o.SHA256 {
			d.discard()
			return fmt.Errorf("%w: got %s, want %s", ErrHash, got, d.o.SHA256)
		}
	}
	if err := d.f.Sync(); err != nil {
		d.f.Close()
		return fmt.Errorf("sync %s: %w", d.part, err)
	}
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", d.part, err)
	}
	if err := os.Rename(d.part, d.dst); err != nil {
		return fmt.Errorf("rename download: %w", err)
	}
	os.Remove(d.part + infoSuffix)
	return nil
}

// discard closes and deletes the part file and its resume info.
func (d *download) discard() {
	d.f.Close()
	os.Remove(d.part)
	os.Remove(d.part + infoSuffix)
}

func newHash() hash.Hash { return sha256.New() }
