package assemble

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"
)

// cpioWriter writes the "newc" (SVR4, magic 070701) cpio format the kernel
// unpacks as an initramfs. Entries are numbered inode by inode; hard links
// become relative symlinks, as LinuxKit's initrd writer does.
type cpioWriter struct {
	w     io.Writer
	ino   uint32
	pad   int64 // padding owed after the current entry's data
	wrote int64
}

const (
	cpioReg     = 0o100000
	cpioDir     = 0o040000
	cpioSymlink = 0o120000
	cpioChar    = 0o020000
	cpioBlock   = 0o060000
	cpioFifo    = 0o010000
)

func newCPIOWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w} }

func (c *cpioWriter) write(b []byte) error {
	n, err := c.w.Write(b)
	c.wrote += int64(n)
	return err
}

func (c *cpioWriter) padTo4() error {
	if n := c.wrote % 4; n != 0 {
		return c.write(make([]byte, 4-n))
	}
	return nil
}

// header writes an entry's header; for a symlink body is its target.
func (c *cpioWriter) header(name string, mode, uid, gid, nlink, mtime, size, rmajor, rminor int64) error {
	c.ino++
	name = strings.TrimPrefix(name, "/")
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, uid, gid, nlink, uint32(mtime), size, 0, 0, rmajor, rminor, len(name)+1, 0)
	if err := c.write([]byte(hdr + name + "\x00")); err != nil {
		return err
	}
	return c.padTo4()
}

// writeTar copies one tar entry (header h, data r) into the archive.
func (c *cpioWriter) writeTar(h *tar.Header, r io.Reader) error {
	perm := h.Mode & 0o7777
	mtime := h.ModTime.Unix()
	name := strings.TrimSuffix(h.Name, "/")
	var err error
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		if err = c.header(name, cpioReg|perm, int64(h.Uid), int64(h.Gid), 1, mtime, h.Size, 0, 0); err != nil {
			break
		}
		var n int64
		if n, err = io.Copy(writerFunc(c.write), r); err == nil && n != h.Size {
			err = fmt.Errorf("short data: %d of %d bytes", n, h.Size)
		}
		if err == nil {
			err = c.padTo4()
		}
	case tar.TypeDir:
		err = c.header(name, cpioDir|perm, int64(h.Uid), int64(h.Gid), 2, mtime, 0, 0, 0)
	case tar.TypeSymlink, tar.TypeLink:
		target := h.Linkname
		if h.Typeflag == tar.TypeLink {
			// a hard link names the target from the root: make it relative
			rel, rerr := relPath(path.Dir(name), strings.TrimPrefix(target, "/"))
			if rerr != nil {
				return fmt.Errorf("cpio %s: %w", name, rerr)
			}
			target, perm = rel, 0o777
		}
		if err = c.header(name, cpioSymlink|perm, int64(h.Uid), int64(h.Gid), 1, mtime, int64(len(target)), 0, 0); err == nil {
			if err = c.write([]byte(target)); err == nil {
				err = c.padTo4()
			}
		}
	case tar.TypeChar:
		err = c.header(name, cpioChar|perm, int64(h.Uid), int64(h.Gid), 1, mtime, 0, h.Devmajor, h.Devminor)
	case tar.TypeBlock:
		err = c.header(name, cpioBlock|perm, int64(h.Uid), int64(h.Gid), 1, mtime, 0, h.Devmajor, h.Devminor)
	case tar.TypeFifo:
		err = c.header(name, cpioFifo|perm, int64(h.Uid), int64(h.Gid), 1, mtime, 0, 0, 0)
	default:
		return fmt.Errorf("cpio %s: tar entry type %q cannot go in an initramfs", name, h.Typeflag)
	}
	if err != nil {
		return fmt.Errorf("cpio %s: %w", name, err)
	}
	return nil
}

// close writes the trailer.
func (c *cpioWriter) close() error {
	c.ino = ^uint32(0) // header adds one: the trailer's inode is 0, as GNU cpio writes it
	if err := c.header("TRAILER!!!", 0, 0, 0, 1, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("cpio trailer: %w", err)
	}
	return nil
}

// relPath is filepath.Rel for slash paths without leading slashes.
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

type writerFunc func([]byte) error

func (f writerFunc) Write(b []byte) (int, error) {
	if err := f(b); err != nil {
		return 0, err
	}
	return len(b), nil
}
