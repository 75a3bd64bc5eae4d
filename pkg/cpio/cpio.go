// Package cpio writes the "new ASCII" (SVR4, magic 070701) cpio format, the
// format the Linux kernel unpacks as an initramfs. It is used like
// archive/tar: WriteHeader, then the member's data through Write, and Close
// for the trailer. Header fields are eight hex digits; names and data are
// padded to four bytes. Every member gets its own inode number, counting
// from 1; the trailer has inode 0, as GNU cpio writes it.
//
// The well-kept Go cpio writers either cannot set a device number
// (cavaliergopher/cpio, needed for /dev/console) or pull in a large module
// (u-root), so this one is hand-written and checked against GNU cpio.
package cpio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// File type bits of Header.Mode, as in stat(2).
const (
	TypeMask    = 0o170000
	TypeFifo    = 0o010000
	TypeChar    = 0o020000
	TypeDir     = 0o040000
	TypeBlock   = 0o060000
	TypeReg     = 0o100000
	TypeSymlink = 0o120000
)

// Trailer is the name of the member that ends an archive.
const Trailer = "TRAILER!!!"

// maxSize is the largest member newc can describe (eight hex digits).
const maxSize = 0xFFFFFFFF

// Errors callers may branch on.
var (
	// ErrWriteTooLong means Write was given more than the header's Size.
	ErrWriteTooLong = errors.New("cpio: write too long")
	// ErrTooLarge means a member is over the newc limit of 4 GiB.
	ErrTooLarge = errors.New("cpio: member over 4 GiB")
)

// Header describes one archive member.
type Header struct {
	// Name is the path in the archive; a leading slash is dropped.
	Name string
	// Mode holds the type bits (TypeReg, TypeDir, ...) and the permissions.
	Mode     uint32
	UID, GID uint32
	// Nlink is the link count; 0 means 2 for a directory and 1 otherwise.
	Nlink uint32
	// ModTime is stored in whole seconds; the zero Time is stored as 0.
	ModTime time.Time
	// Size is the number of data bytes that follow; for a symlink it is
	// len(Linkname), set by WriteHeader.
	Size int64
	// Linkname is a symlink's target, written by WriteHeader as the data.
	Linkname string
	// DevMajor and DevMinor are a device node's number (rdev).
	DevMajor, DevMinor uint32
}

// Writer writes a newc archive to an io.Writer. Errors are sticky: once a
// write fails, every later call returns the same error.
type Writer struct {
	w       io.Writer
	ino     uint32
	n       int64  // bytes written, for padding
	left    int64  // data bytes the current member still owes
	current string // name of the current member, for errors
	err     error
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

func (c *Writer) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		c.err = fmt.Errorf("cpio: %w", err)
	}
}

func (c *Writer) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// finish checks that the current member got all its data and pads it.
func (c *Writer) finish() error {
	if c.err == nil && c.left > 0 {
		c.err = fmt.Errorf("cpio %s: %d bytes of data missing", c.current, c.left)
	}
	c.pad()
	return c.err
}

// WriteHeader finishes the previous member and starts h. The caller then
// writes exactly h.Size bytes of data with Write (nothing for a symlink:
// WriteHeader writes Linkname).
func (c *Writer) WriteHeader(h *Header) error {
	if err := c.finish(); err != nil {
		return err
	}
	c.ino++
	return c.header(c.ino, h)
}

func (c *Writer) header(ino uint32, h *Header) error {
	name := strings.TrimPrefix(h.Name, "/")
	size := h.Size
	if h.Mode&TypeMask == TypeSymlink {
		size = int64(len(h.Linkname))
	}
	if size < 0 || size > maxSize {
		return fmt.Errorf("cpio %s: %d bytes: %w", name, size, ErrTooLarge)
	}
	nlink := h.Nlink
	if nlink == 0 {
		nlink = 1
		if h.Mode&TypeMask == TypeDir {
			nlink = 2
		}
	}
	var mtime uint32
	if !h.ModTime.IsZero() {
		t := h.ModTime.Unix()
		if t < 0 || t > math.MaxUint32 {
			return fmt.Errorf("cpio %s: mtime %s is outside newc's 32-bit range", name, h.ModTime.UTC().Format(time.RFC3339))
		}
		mtime = uint32(t)
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, h.Mode, h.UID, h.GID, nlink, mtime, size, 0, 0, h.DevMajor, h.DevMinor, len(name)+1, 0)
	c.write([]byte(hdr + name + "\x00"))
	c.pad()
	c.current, c.left = name, size
	if h.Mode&TypeMask == TypeSymlink {
		_, err := io.WriteString(c, h.Linkname)
		return err
	}
	return c.err
}

// Write writes data of the current member.
func (c *Writer) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		return 0, fmt.Errorf("cpio %s: %w", c.current, ErrWriteTooLong)
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.left -= int64(n)
	if err != nil {
		c.err = fmt.Errorf("cpio: %w", err)
		return n, c.err
	}
	return n, nil
}

// Close finishes the last member and writes the trailer. It does not close
// the underlying writer.
func (c *Writer) Close() error {
	if err := c.finish(); err != nil {
		return err
	}
	if err := c.header(0, &Header{Name: Trailer}); err != nil {
		return err
	}
	return c.finish()
}
