package disk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// makeExt4 creates an ext4 filesystem image of size bytes labelled label in
// dir with mkfs.ext4 and returns its path. The image is sparse.
func makeExt4(ctx context.Context, dir, label string, size int64) (string, error) {
	img := filepath.Join(dir, "state.ext4")
	f, err := os.Create(img)
	if err != nil {
		return "", fmt.Errorf("make ext4 %s: %w", label, err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("make ext4 %s: %w", label, err)
	}
	args := []string{"-q", "-F", "-L", label, "-m", "0", "-E", "nodiscard,root_owner=0:0", img}
	if out, err := exec.CommandContext(ctx, "mkfs.ext4", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mkfs.ext4 %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return img, nil
}

// copySparse copies src into dst at offset off, skipping all-zero chunks
// (dst is a fresh sparse image, so they already read as zero).
func copySparse(dst *os.File, off int64, src io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		m, err := io.ReadFull(src, buf)
		if m > 0 {
			chunk := buf[:m]
			if !allZero(chunk) {
				if _, werr := dst.WriteAt(chunk, off+n); werr != nil {
					return n, werr
				}
			}
			n += int64(m)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
