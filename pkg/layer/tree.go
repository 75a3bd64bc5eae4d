// Package layer holds a filesystem tree in memory (metadata) and on disk
// (file contents), and writes it as a reproducible tar: entries sorted,
// one fixed modification time, no user or group names, no host data.
package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// ErrNotExist is returned (wrapped) for paths that are not in a tree.
var ErrNotExist = errors.New("no such path in tree")

// Entry is one file, directory, link or device of a tree.
type Entry struct {
	Path     string // clean, relative to the root, no leading slash ("usr/bin/ros")
	Type     byte   // tar.TypeReg, TypeDir, TypeSymlink, TypeChar, TypeBlock, TypeFifo
	Mode     int64  // permission bits, including setuid/setgid/sticky
	UID, GID int
	Linkname string // symlink target
	Devmajor int64
	Devminor int64
	Size     int64
	Source   string // file holding the content of a regular file, or
	Data     []byte // the content itself
}

// Open returns the content of a regular file.
func (e *Entry) Open() (io.ReadCloser, error) {
	if e.Source != "" {
		return os.Open(e.Source)
	}
	return io.NopCloser(strings.NewReader(string(e.Data))), nil
}

// ReadAll returns the content of a regular file.
func (e *Entry) ReadAll() ([]byte, error) {
	if e.Source == "" {
		return e.Data, nil
	}
	return os.ReadFile(e.Source)
}

// Tree is a set of entries keyed by path. Every entry's parent directories
// are in the tree too.
type Tree struct {
	entries map[string]*Entry
}

// NewTree returns an empty tree.
func NewTree() *Tree { return &Tree{entries: map[string]*Entry{}} }

// Clean turns "/usr//bin/" or "./usr/bin" into "usr/bin"; the root is "".
func Clean(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

// Add puts e in the tree, replacing an entry at the same path (a directory
// replaced by a non-directory loses its children), and creates missing
// parent directories (0755, root-owned).
func (t *Tree) Add(e *Entry) error {
	e.Path = Clean(e.Path)
	if e.Path == "" {
		return fmt.Errorf("add entry: empty path")
	}
	if old, ok := t.entries[e.Path]; ok && old.Type == tar.TypeDir && e.Type != tar.TypeDir {
		t.Remove(e.Path)
	}
	for dir := path.Dir(e.Path); dir != "."; dir = path.Dir(dir) {
		p, ok := t.entries[dir]
		if ok && p.Type == tar.TypeDir {
			continue
		}
		if ok {
			return fmt.Errorf("add %s: parent %s is not a directory", e.Path, dir)
		}
		t.entries[dir] = &Entry{Path: dir, Type: tar.TypeDir, Mode: 0o755}
	}
	t.entries[e.Path] = e
	return nil
}

// Get returns the entry at p (no symlinks followed).
func (t *Tree) Get(p string) (*Entry, bool) {
	e, ok := t.entries[Clean(p)]
	return e, ok
}

// Remove deletes p and, for a directory, everything below it.
func (t *Tree) Remove(p string) {
	p = Clean(p)
	e, ok := t.entries[p]
	if !ok {
		return
	}
	delete(t.entries, p)
	if e.Type == tar.TypeDir {
		prefix := p + "/"
		for k := range t.entries {
			if strings.HasPrefix(k, prefix) {
				delete(t.entries, k)
			}
		}
	}
}

// Len returns the number of entries.
func (t *Tree) Len() int { return len(t.entries) }

// Paths returns every path, parents before children, in a fixed order.
func (t *Tree) Paths() []string {
	out := make([]string, 0, len(t.entries))
	for k := range t.entries {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return lessPath(out[i], out[j]) })
	return out
}

// lessPath orders paths segment by segment, so "a/b" < "a-b" never splits
// a directory from its children.
func lessPath(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

// ContentSize returns the sum of regular file sizes.
func (t *Tree) ContentSize() int64 {
	var n int64
	for _, e := range t.entries {
		if e.Type == tar.TypeReg {
			n += e.Size
		}
	}
	return n
}

// Resolve follows symlinks in p (every component) inside the tree, as the
// kernel would with the tree as root, and returns the final path.
func (t *Tree) Resolve(p string) (string, error) {
	final, _, err := t.ResolveChain(p)
	return final, err
}

// ResolveChain is Resolve that also returns every symlink it went through,
// in order: keeping those and the final path keeps p usable.
func (t *Tree) ResolveChain(p string) (final string, links []string, err error) {
	final, err = t.resolve(Clean(p), 0, &links)
	return final, links, err
}

func (t *Tree) resolve(p string, depth int, links *[]string) (string, error) {
	if depth > 40 {
		return "", fmt.Errorf("resolve %s: too many levels of symbolic links", p)
	}
	if p == "" {
		return "", nil
	}
	parts := strings.Split(p, "/")
	cur := ""
	for i, part := range parts {
		next := part
		if cur != "" {
			next = cur + "/" + part
		}
		e, ok := t.entries[next]
		if !ok {
			return "", fmt.Errorf("resolve %s: %s: %w", p, next, ErrNotExist)
		}
		if e.Type == tar.TypeSymlink {
			*links = append(*links, next)
			target := e.Linkname
			if !strings.HasPrefix(target, "/") {
				target = path.Join("/", cur, target)
			}
			rest := strings.Join(parts[i+1:], "/")
			return t.resolve(Clean(path.Join(target, rest)), depth+1, links)
		}
		cur = next
	}
	return cur, nil
}
