package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ros-os/ros/upgrade/progress"
)

const copyBufferSize = 1 << 20

// fetchFile copies a local file to dst through dst+".part".
func fetchFile(ctx context.Context, path, dst string, o Options) error {
	in, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if o.Size > 0 && st.Size() != o.Size {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrSize, path, st.Size(), o.Size)
	}
	if out, err := os.Stat(dst); err == nil && os.SameFile(st, out) {
		return checkFile(ctx, in, st.Size(), o)
	}
	d, err := create(dst, o)
	if err != nil {
		return err
	}
	d.total = st.Size()
	d.report()
	if _, err := io.CopyBuffer(d, progress.Reader(ctx, in), make([]byte, copyBufferSize)); err != nil {
		d.discard()
		return err
	}
	return d.finish()
}

// checkFile hashes a file already in place (src is dst).
func checkFile(ctx context.Context, f *os.File, size int64, o Options) error {
	if o.SHA256 == "" {
		if o.Progress != nil {
			o.Progress(size, size)
		}
		return nil
	}
	h := sha256.New()
	pw := &progress.Writer{W: h, Total: size, Report: o.Progress}
	if _, err := io.CopyBuffer(pw, progress.Reader(ctx, f), make([]byte, copyBufferSize)); err != nil {
		return err
	}
	pw.Finish()
	if got := hex.EncodeToString(h.Sum(nil)); got != o.SHA256 {
		return fmt.Errorf("%w: got %s, want %s", ErrHash, got, o.SHA256)
	}
	return nil
}
