// Package payload reads a ros payload: a boot squashfs (gzip or xz, for
// GRUB) holding boot/kernel, boot/initrd and boot/cmdline, followed by the
// root squashfs (zstd, xz or gzip); or, in the format before zstd, one
// squashfs holding both (see package layout).
package payload

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"

	"github.com/ros-os/ros/pkg/disk/payload/layout"
)

// Files GRUB and the writers need from a payload.
const (
	Kernel  = "/boot/kernel"
	Initrd  = "/boot/initrd"
	Cmdline = "/boot/cmdline"
)

// ErrInvalid is returned for a file that is not a usable payload.
var ErrInvalid = errors.New("invalid payload")

// Compressions are the compressors the root squashfs of a payload may
// use, the default first. zstd decompresses several times faster than xz,
// and at boot Linux decompresses most of containerd and ros page by page;
// xz is the smallest; gzip is what older payloads used for speed.
var Compressions = []string{"zstd", "xz", "gzip"}

// BootCompressions are those GRUB's squash4 reads, for the boot part (and
// for a single-squashfs payload). It reads lzo too, which go-diskfs, the
// reader here, failed on ("lzo: output overrun").
var BootCompressions = []string{"gzip", "xz"}

// CheckCompression returns an error naming the choices unless comp is one
// of Compressions.
func CheckCompression(comp string) error {
	if !slices.Contains(Compressions, comp) {
		return fmt.Errorf("squashfs compression %q: a payload's root is one of %s (ros reads no other)",
			comp, strings.Join(Compressions, ", "))
	}
	return nil
}

// Info describes a payload.
type Info struct {
	Path        string
	Size        int64
	Compression string // of the root: one of Compressions
	Layout      layout.Layout
	Cmdline     string // boot/cmdline, trimmed to one line
}

// Payload is an open payload.
type Payload struct {
	Info
	f          *os.File
	boot, root *squashfs.FileSystem // the same for a one-squashfs payload
}

// Open opens and checks a payload: a boot part GRUB can read (gzip or xz)
// with boot/kernel, boot/initrd and boot/cmdline, and a root part in one
// of Compressions.
func Open(path string) (*Payload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open payload: %w", err)
	}
	p, err := open(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open payload %s: %w", path, err)
	}
	return p, nil
}

func open(f *os.File) (*Payload, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	l, err := layout.Read(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !slices.Contains(BootCompressions, l.Boot.Compression) {
		return nil, fmt.Errorf("%w: the boot squashfs is %s; GRUB reads %s", ErrInvalid,
			l.Boot.Compression, strings.Join(BootCompressions, " or "))
	}
	if err := CheckCompression(l.Root.Compression); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	boot, err := squashfs.Read(backend.Sub(file.New(f, true), 0, l.Boot.Size), l.Boot.Size, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: read boot squashfs: %w", ErrInvalid, err)
	}
	root := boot
	if l.Split() {
		root, err = squashfs.Read(backend.Sub(file.New(f, true), l.Root.Offset, l.Root.Size), l.Root.Size, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: read root squashfs at byte %d: %w", ErrInvalid, l.Root.Offset, err)
		}
	}
	p := &Payload{Info: Info{Path: f.Name(), Size: fi.Size(), Compression: l.Root.Compression, Layout: l}, f: f, boot: boot, root: root}
	for _, name := range []string{Kernel, Initrd} {
		if _, err := p.Stat(name); err != nil {
			return nil, fmt.Errorf("%w: %s missing: %w", ErrInvalid, name, err)
		}
	}
	cmd, err := p.ReadFile(Cmdline)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	line := strings.TrimSpace(string(cmd))
	if strings.ContainsAny(line, "\n\x00") {
		return nil, fmt.Errorf("%w: %s has more than one line", ErrInvalid, Cmdline)
	}
	p.Cmdline = line
	return p, nil
}

// fs returns the part that holds name: boot/ is in the boot part, the
// rest of the tree in the root part.
func (p *Payload) fs(name string) *squashfs.FileSystem {
	if name == "boot" || strings.HasPrefix(name, "boot/") {
		return p.boot
	}
	return p.root
}

// Stat returns the size of the regular file name inside the payload.
func (p *Payload) Stat(name string) (int64, error) {
	dir, base := path.Split(fsPath(name))
	entries, err := p.fs(fsPath(name)).ReadDir(path.Clean(dir))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	for _, e := range entries {
		if e.Name() != base {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if !fi.Mode().IsRegular() {
			return 0, fmt.Errorf("%s: not a regular file", name)
		}
		return fi.Size(), nil
	}
	return 0, fmt.Errorf("%s: %w", name, os.ErrNotExist)
}

// ReadFile returns the contents of name inside the payload.
func (p *Payload) ReadFile(name string) ([]byte, error) {
	f, err := p.fs(fsPath(name)).OpenFile(fsPath(name), os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("read %s from payload: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s from payload: %w", name, err)
	}
	return b, nil
}

// Close closes the payload file.
func (p *Payload) Close() error { return p.f.Close() }

// fsPath turns "/boot/kernel" into the io/fs form "boot/kernel".
func fsPath(name string) string {
	name = strings.TrimLeft(path.Clean("/"+name), "/")
	if name == "" {
		return "."
	}
	return name
}
