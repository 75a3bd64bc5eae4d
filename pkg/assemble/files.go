package assemble

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ros-os/ros/pkg/buildfile"
)

// preparedFile is a files entry with everything needed to write it.
type preparedFile struct {
	where    string // `files "etc/motd"`
	pos      buildfile.Pos
	hdr      *tar.Header
	contents []byte
}

// fileWhere names a files entry in errors.
func fileWhere(f buildfile.File) string {
	return "files " + strconv.Quote(f.Path)
}

// prepareFiles reads the contents of every files entry (sources, metadata)
// and records which paths they write, before anything else is written: the
// layers below must leave those paths to them.
func (b *builder) prepareFiles(context.Context) error {
	b.override = map[string]bool{}
	for _, f := range b.cfg.Files {
		where := fileWhere(f)
		name := cleanName(f.Path)
		perm, err := f.Perm()
		if err != nil {
			return entryErr(f.Pos(), where, err)
		}
		uid, err := b.fileID(f.UID)
		if err != nil {
			return entryErr(f.Pos(), where, fmt.Errorf("uid: %w", err))
		}
		gid, err := b.fileID(f.GID)
		if err != nil {
			return entryErr(f.Pos(), where, fmt.Errorf("gid: %w", err))
		}
		h := &tar.Header{Name: name, Mode: int64(perm), Uid: int(uid), Gid: int(gid), ModTime: b.opts.ModTime}
		var contents []byte
		switch f.Kind() {
		case buildfile.FileDirectory:
			h.Typeflag = tar.TypeDir
		case buildfile.FileSymlink:
			h.Typeflag = tar.TypeSymlink
			h.Linkname = f.Symlink
			if f.Mode == "" {
				h.Mode = 0o777 // what Linux shows for every symlink
			}
		default:
			h.Typeflag = tar.TypeReg
			contents, err = b.cfg.Contents(f)
			if errors.Is(err, buildfile.ErrSkipped) {
				b.log.Info("assemble: optional file skipped", "path", f.Path, "source", f.Source)
				continue
			}
			if err != nil {
				return entryErr(f.Pos(), where, err)
			}
			h.Size = int64(len(contents))
		}
		if prev, ok := b.override[name]; ok && !(prev && h.Typeflag == tar.TypeDir) {
			return entryErr(f.Pos(), where, fmt.Errorf("path /%s is written by an earlier files entry", name))
		}
		b.override[name] = h.Typeflag == tar.TypeDir
		b.files = append(b.files, preparedFile{where: where, pos: f.Pos(), hdr: h, contents: contents})
	}
	// A directory entry sets the metadata of the directory wherever it is
	// written, even by an image.
	dirs := map[string]*tar.Header{}
	for _, pf := range b.files {
		if pf.hdr.Typeflag == tar.TypeDir {
			dirs[pf.hdr.Name] = pf.hdr
		}
	}
	b.t.dirMeta = func(name string) *tar.Header { return dirs[name] }
	return nil
}

// fileID turns a files entry's uid or gid into a number: a number, "root"
// (0), or the name of a container (the id LinuxKit allocates it).
func (b *builder) fileID(id *buildfile.ID) (uint32, error) {
	if id == nil {
		return 0, nil
	}
	if !id.IsName() {
		return id.Num, nil
	}
	if id.Name == "root" {
		return 0, nil
	}
	if n, ok := b.ids[id.Name]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("%q is neither a number nor the name of an onboot, onshutdown or service container", id.Name)
}

// writeFiles writes the files entries, in order, after everything else.
// Missing parent directories are made 0755 root; a directory already
// written (by an image) got the entry's metadata when it was written.
func (b *builder) writeFiles(context.Context) error {
	for _, pf := range b.files {
		if pf.hdr.Typeflag == tar.TypeDir {
			if _, ok := b.t.has(pf.hdr.Name); ok {
				continue
			}
		}
		ok, err := b.t.writeHeader(pf.hdr)
		if err != nil {
			return entryErr(pf.pos, pf.where, err)
		}
		if ok && pf.hdr.Typeflag == tar.TypeReg {
			if _, err := b.t.tw.Write(pf.contents); err != nil {
				return entryErr(pf.pos, pf.where, fmt.Errorf("write: %w", err))
			}
		}
	}
	return nil
}
