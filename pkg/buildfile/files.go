package buildfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Kind says what a files entry makes.
type FileKind int

const (
	FileRegular   FileKind = iota // contents, source or metadata
	FileDirectory                 // directory: true
	FileSymlink                   // symlink: target
)

// Kind returns what the entry makes.
func (f File) Kind() FileKind {
	switch {
	case f.Directory:
		return FileDirectory
	case f.Symlink != "":
		return FileSymlink
	}
	return FileRegular
}

// Perm returns the entry's permission bits: its mode, else LinuxKit's
// defaults, 0600 for a file and 0700 for a directory.
func (f File) Perm() (fs.FileMode, error) {
	if f.Mode == "" {
		if f.Directory {
			return 0o700, nil
		}
		return 0o600, nil
	}
	m, err := ParseMode(f.Mode)
	if err != nil {
		return 0, f.errorf("%v", err)
	}
	return fs.FileMode(m), nil
}

// SourcePath returns the file a `source:` names: a leading ~/ is the user's
// home directory, and a relative path is taken from the folder of the build
// file that holds the entry.
func (f File) SourcePath() (string, error) {
	src := f.Source
	if src == "~" || strings.HasPrefix(src, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", f.errorf("source %q: %v", f.Source, err)
		}
		src = filepath.Join(home, src[1:])
	}
	if !filepath.IsAbs(src) {
		base := "."
		if f.pos.File != "" && f.pos.File != "-" {
			base = filepath.Dir(f.pos.File)
		}
		src = filepath.Join(base, src)
	}
	return src, nil
}

// ErrSkipped is returned by Contents for an optional source that cannot be read.
var ErrSkipped = errors.New("optional source not found, entry skipped")

// Contents returns the bytes a regular files entry writes: its contents, the
// file its source names, or the merged build c rendered as its metadata
// format. For an `optional: true` entry whose source cannot be read it
// returns ErrSkipped; for any other unreadable source an *Error naming the
// build file, the line and the path.
func (c *Config) Contents(f File) ([]byte, error) {
	switch {
	case f.Contents != nil:
		return []byte(*f.Contents), nil
	case f.Source != "":
		src, err := f.SourcePath()
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(src)
		if err != nil {
			if f.Optional {
				return nil, ErrSkipped
			}
			return nil, f.errorf("cannot read source %s: %v", src, unwrapPathErr(err))
		}
		return b, nil
	case f.Metadata != "":
		b, err := Metadata(c, f.Metadata)
		if err != nil {
			return nil, f.errorf("%v", err)
		}
		return b, nil
	}
	return nil, nil
}

func (f File) errorf(format string, args ...any) *Error {
	p := path("files")
	if f.Path != "" {
		p = p.label(f.Path)
	}
	return errAt(f.pos, string(p), format, args...)
}

// unwrapPathErr keeps the reason of a *fs.PathError (the path is said already).
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// String names the kind.
func (k FileKind) String() string {
	switch k {
	case FileDirectory:
		return "directory"
	case FileSymlink:
		return "symlink"
	}
	return "file"
}
