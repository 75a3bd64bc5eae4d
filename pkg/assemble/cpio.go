package assemble

import (
	"archive/tar"
	"fmt"
	"io"
	"math"
	"path"
	"strings"

	"github.com/ros-os/ros/pkg/cpio"
)

// typeRegA is the zero Typeflag, an old spelling of a regular file
// (tar.TypeRegA, deprecated for writers). tar.Reader turns it into TypeReg;
// a header built in memory without a Typeflag still carries it.
const typeRegA = '\x00'

// writeCPIO copies one tar entry (header h, data r) into the newc archive
// the kernel unpacks as an initramfs. Hard links become relative symlinks,
// as LinuxKit's initrd writer does.
func writeCPIO(c *cpio.Writer, h *tar.Header, r io.Reader) error {
	name := strings.TrimSuffix(h.Name, "/")
	uid, err := field32(name, "uid", int64(h.Uid))
	if err != nil {
		return err
	}
	gid, err := field32(name, "gid", int64(h.Gid))
	if err != nil {
		return err
	}
	ch := &cpio.Header{
		Name:    name,
		Mode:    uint32(h.Mode & 0o7777),
		UID:     uid,
		GID:     gid,
		ModTime: h.ModTime,
	}
	switch h.Typeflag {
	case tar.TypeReg, typeRegA:
		ch.Mode |= cpio.TypeReg
		ch.Size = h.Size
	case tar.TypeDir:
		ch.Mode |= cpio.TypeDir
	case tar.TypeSymlink:
		ch.Mode |= cpio.TypeSymlink
		ch.Linkname = h.Linkname
	case tar.TypeLink:
		// a hard link names the target from the root: make it relative
		rel, err := relPath(path.Dir(name), strings.TrimPrefix(h.Linkname, "/"))
		if err != nil {
			return fmt.Errorf("cpio %s: %w", name, err)
		}
		ch.Mode = cpio.TypeSymlink | 0o777
		ch.Linkname = rel
	case tar.TypeChar:
		ch.Mode |= cpio.TypeChar
	case tar.TypeBlock:
		ch.Mode |= cpio.TypeBlock
	case tar.TypeFifo:
		ch.Mode |= cpio.TypeFifo
	default:
		return fmt.Errorf("cpio %s: tar entry type %q cannot go in an initramfs", name, h.Typeflag)
	}
	if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock {
		if ch.DevMajor, err = field32(name, "device major", h.Devmajor); err != nil {
			return err
		}
		if ch.DevMinor, err = field32(name, "device minor", h.Devminor); err != nil {
			return err
		}
	}
	if err := c.WriteHeader(ch); err != nil {
		return fmt.Errorf("cpio %s: %w", name, err)
	}
	if ch.Size == 0 {
		return nil
	}
	if n, err := io.Copy(c, r); err != nil {
		return fmt.Errorf("cpio %s: %w", name, err)
	} else if n != ch.Size {
		return fmt.Errorf("cpio %s: short data: %d of %d bytes", name, n, ch.Size)
	}
	return nil
}

// relPath is filepath.Rel for slash paths without leading slashes.
// field32 checks that a tar id or device number fits newc's 32-bit field.
func field32(name, field string, v int64) (uint32, error) {
	if v < 0 || v > math.MaxUint32 {
		return 0, fmt.Errorf("cpio %s: %s %d does not fit a 32-bit newc field", name, field, v)
	}
	return uint32(v), nil
}

func relPath(from, to string) (string, error) {
	if from == "." {
		return to, nil
	}
	f := strings.Split(from, "/")
	t := strings.Split(to, "/")
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	parts := make([]string, 0, len(f)-i+len(t)-i)
	for range f[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "", fmt.Errorf("link to its own directory %s", to)
	}
	return strings.Join(parts, "/"), nil
}
