package assemble

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// ErrDuplicatePath is wrapped when two parts of the build write the same
// non-directory path (for example a files entry over a container's config.json).
var ErrDuplicatePath = errors.New("path written twice")

// treeWriter writes the assembled tree as one tar stream. It normalises names
// (relative, cleaned, no "./"), writes each directory once, creates missing
// parent directories before their children, and refuses a second
// non-directory at a path, so the stream holds no duplicates and extracts the
// same way with tar, cpio or mksquashfs.
type treeWriter struct {
	tw    *tar.Writer
	mtime time.Time
	// written maps each path written to its tar type flag.
	written map[string]byte
	// dirMeta supplies the header of a directory written implicitly as a
	// parent, or overrides an image's directory (from files entries).
	dirMeta func(name string) *tar.Header
}

func newTreeWriter(w io.Writer, mtime time.Time) *treeWriter {
	return &treeWriter{tw: tar.NewWriter(w), mtime: mtime, written: map[string]byte{}}
}

// cleanName turns a tar entry name into the tree's form: "etc/hosts".
// It returns "" for the root itself.
func cleanName(name string) string {
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

// has reports whether name was written, and with which type flag.
func (t *treeWriter) has(name string) (byte, bool) {
	f, ok := t.written[name]
	return f, ok
}

// ensureParents writes every missing parent directory of name.
func (t *treeWriter) ensureParents(name string) error {
	dir := path.Dir(name)
	if dir == "." || dir == "/" {
		return nil
	}
	if f, ok := t.written[dir]; ok {
		if f != tar.TypeDir {
			return fmt.Errorf("%s: parent %s is not a directory: %w", name, dir, ErrDuplicatePath)
		}
		return nil
	}
	if err := t.ensureParents(dir); err != nil {
		return err
	}
	var h *tar.Header
	if t.dirMeta != nil {
		h = t.dirMeta(dir)
	}
	if h == nil {
		h = &tar.Header{Typeflag: tar.TypeDir, Mode: 0o755, ModTime: t.mtime}
	}
	h = cloneHeader(h)
	h.Name = dir
	return t.emit(h)
}

// writeHeader writes h (its name cleaned). A directory already written is
// skipped (the first one wins, so its metadata is the one the caller chose);
// any other type at a written path is an error. The returned bool says
// whether the header was written, so the caller knows to copy its data.
func (t *treeWriter) writeHeader(h *tar.Header) (bool, error) {
	name := cleanName(h.Name)
	if name == "" {
		return false, nil
	}
	if f, ok := t.written[name]; ok {
		if f == tar.TypeDir && h.Typeflag == tar.TypeDir {
			return false, nil
		}
		return false, fmt.Errorf("%s: %w", name, ErrDuplicatePath)
	}
	if err := t.ensureParents(name); err != nil {
		return false, err
	}
	h = cloneHeader(h)
	h.Name = name
	if h.Typeflag == tar.TypeDir && t.dirMeta != nil {
		if o := t.dirMeta(name); o != nil {
			o = cloneHeader(o)
			o.Name = name
			h = o
		}
	}
	if h.Typeflag == tar.TypeLink {
		h.Linkname = cleanName(h.Linkname)
	}
	return true, t.emit(h)
}

func (t *treeWriter) emit(h *tar.Header) error {
	if h.Typeflag == tar.TypeDir {
		h.Name += "/"
	}
	if err := t.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write %s: %w", h.Name, err)
	}
	t.written[strings.TrimSuffix(h.Name, "/")] = h.Typeflag
	return nil
}

// dir writes a directory.
func (t *treeWriter) dir(name string, mode int64, uid, gid int) error {
	_, err := t.writeHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: mode, Uid: uid, Gid: gid, ModTime: t.mtime})
	return err
}

// file writes a regular file holding data.
func (t *treeWriter) file(name string, mode int64, uid, gid int, data []byte) error {
	ok, err := t.writeHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Uid: uid, Gid: gid,
		Size: int64(len(data)), ModTime: t.mtime})
	if err != nil || !ok {
		return err
	}
	if _, err := t.tw.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// symlink writes a symbolic link.
func (t *treeWriter) symlink(name, target string, mode int64, uid, gid int) error {
	_, err := t.writeHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: mode,
		Uid: uid, Gid: gid, ModTime: t.mtime})
	return err
}

// copyData copies an entry's data after writeHeader.
func (t *treeWriter) copyData(r io.Reader) error {
	if _, err := io.Copy(t.tw, r); err != nil {
		return fmt.Errorf("copy data: %w", err)
	}
	return nil
}

func (t *treeWriter) close() error {
	return t.tw.Close()
}

// cloneHeader copies the parts of a header the tree keeps: numeric owners
// (no user or group names, which depend on the build host), the type, mode,
// size, times and device numbers, and extended attributes (file capabilities).
// Access and change times and other PAX records are dropped, so the output
// depends only on the inputs.
func cloneHeader(h *tar.Header) *tar.Header {
	c := &tar.Header{
		Typeflag: h.Typeflag,
		Name:     h.Name,
		Linkname: h.Linkname,
		Size:     h.Size,
		Mode:     h.Mode & 0o7777,
		Uid:      h.Uid,
		Gid:      h.Gid,
		ModTime:  h.ModTime.Truncate(time.Second),
		Devmajor: h.Devmajor,
		Devminor: h.Devminor,
	}
	if c.ModTime.IsZero() {
		c.ModTime = time.Unix(0, 0)
	}
	if c.Typeflag == typeRegA {
		c.Typeflag = tar.TypeReg
	}
	for k, v := range h.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if c.PAXRecords == nil {
				c.PAXRecords = map[string]string{}
			}
			c.PAXRecords[k] = v
		}
	}
	if c.PAXRecords != nil {
		c.Format = tar.FormatPAX
	}
	if c.Typeflag != tar.TypeReg {
		c.Size = 0
	}
	return c
}
