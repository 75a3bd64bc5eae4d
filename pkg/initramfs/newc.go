package initramfs

import (
	"fmt"
	"io"
)

// newcWriter writes the "new ASCII" (SVR4, magic 070701) cpio format the
// kernel unpacks into its rootfs. Header fields are eight hex digits; names
// and file data are padded to four bytes. The well-kept Go cpio writers
// either cannot set a device number (cavaliergopher/cpio, needed for
// /dev/console) or pull in a large module (u-root), so this is hand-written
// and checked against GNU cpio in the tests.
type newcWriter struct {
	w   io.Writer
	ino uint32
	n   int64 // bytes written, for padding
	err error
}

// header describes one archive member.
type header struct {
	name      string // relative, no leading slash
	mode      uint32 // type bits and permissions, as in stat(2)
	size      int64
	mtime     uint32
	rdevMajor uint32
	rdevMinor uint32
}

const (
	modeDir     = 0o040000
	modeReg     = 0o100000
	modeSymlink = 0o120000
	modeChar    = 0o020000
)

func (c *newcWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

func (c *newcWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// writeHeader starts a member; the caller then writes exactly h.size bytes
// of data through writeData.
func (c *newcWriter) writeHeader(h header) error {
	if h.size > 0xFFFFFFFF {
		return fmt.Errorf("cpio member %s: %d bytes is over the newc limit of 4 GiB", h.name, h.size)
	}
	c.ino++
	nlink := uint32(1)
	if h.mode&0o170000 == modeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, h.mode, 0, 0, nlink, h.mtime, uint32(h.size), 0, 0, h.rdevMajor, h.rdevMinor, len(h.name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(h.name + "\x00"))
	c.pad()
	return c.err
}

// writeData copies the member's data and pads it.
func (c *newcWriter) writeData(r io.Reader, size int64) error {
	if c.err != nil {
		return c.err
	}
	n, err := io.CopyN(c.w, r, size)
	c.n += n
	if err != nil {
		c.err = fmt.Errorf("cpio data: %w", err)
		return c.err
	}
	c.pad()
	return c.err
}

// close writes the TRAILER!!! member that ends an archive.
func (c *newcWriter) close() error {
	c.ino = 0
	if err := c.writeHeader(header{name: "TRAILER!!!"}); err != nil {
		return err
	}
	return c.err
}
