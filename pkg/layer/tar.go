package layer

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteTar writes the tree as a tar stream: entries in Paths() order,
// every modification time set to mtime, numeric owners only, directories
// with a trailing slash. The same tree and mtime always give the same bytes.
func (t *Tree) WriteTar(w io.Writer, mtime time.Time) error {
	tw := tar.NewWriter(w)
	mtime = mtime.UTC().Truncate(time.Second)
	for _, p := range t.Paths() {
		e := t.entries[p]
		h := &tar.Header{
			Typeflag: e.Type,
			Name:     p,
			Mode:     e.Mode & 0o7777,
			Uid:      e.UID,
			Gid:      e.GID,
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		switch e.Type {
		case tar.TypeDir:
			h.Name += "/"
		case tar.TypeReg:
			h.Size = e.Size
		case tar.TypeSymlink:
			h.Linkname = e.Linkname
		case tar.TypeChar, tar.TypeBlock:
			h.Devmajor, h.Devminor = e.Devmajor, e.Devminor
		case tar.TypeFifo:
		default:
			return fmt.Errorf("write tar: %s: unsupported entry type %q", p, e.Type)
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write tar header %s: %w", p, err)
		}
		if e.Type != tar.TypeReg {
			continue
		}
		rc, err := e.Open()
		if err != nil {
			return fmt.Errorf("write tar %s: %w", p, err)
		}
		n, err := io.Copy(tw, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("write tar %s: %w", p, err)
		}
		if n != e.Size {
			return fmt.Errorf("write tar %s: content is %d bytes, entry says %d", p, n, e.Size)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	return nil
}

// typeRegA is the zero Typeflag, an old spelling of a regular file
// (tar.TypeRegA, deprecated for writers).
const typeRegA = '\x00'

// ReadTar adds the entries of a tar stream to the tree. Regular file
// contents are written under stageDir (which must exist); hard links
// become regular files sharing the staged content. Entries for which skip
// returns true are left out (their content is not staged). Owners, modes
// and device numbers are kept; times are dropped.
func (t *Tree) ReadTar(r io.Reader, stageDir string, skip func(p string) bool) error {
	tr := tar.NewReader(r)
	staged := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		p := Clean(h.Name)
		if p == "" || (skip != nil && skip(p)) {
			continue
		}
		e := &Entry{Path: p, Type: h.Typeflag, Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid}
		switch h.Typeflag {
		case tar.TypeDir:
		case tar.TypeReg, typeRegA:
			e.Type = tar.TypeReg
			staged++
			e.Source = filepath.Join(stageDir, fmt.Sprintf("%d", staged))
			f, err := os.Create(e.Source)
			if err != nil {
				return fmt.Errorf("stage %s: %w", p, err)
			}
			n, err := io.Copy(f, tr) //nolint:gosec // G110: input is an uncompressed tar of apt-verified packages, bounded by its size
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("stage %s: %w", p, err)
			}
			e.Size = n
		case tar.TypeLink:
			target, ok := t.entries[Clean(h.Linkname)]
			if !ok || target.Type != tar.TypeReg {
				return fmt.Errorf("read tar: hard link %s to %s: target not read", p, h.Linkname)
			}
			e.Type, e.Source, e.Data, e.Size = tar.TypeReg, target.Source, target.Data, target.Size
		case tar.TypeSymlink:
			e.Linkname = h.Linkname
		case tar.TypeChar, tar.TypeBlock:
			e.Devmajor, e.Devminor = h.Devmajor, h.Devminor
		case tar.TypeFifo:
		default:
			if strings.HasPrefix(h.Name, "PaxHeader") {
				continue
			}
			return fmt.Errorf("read tar: %s: unsupported entry type %q", p, h.Typeflag)
		}
		if err := t.Add(e); err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
	}
}
