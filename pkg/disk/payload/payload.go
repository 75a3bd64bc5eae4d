// Package payload reads a ros payload: one squashfs (xz or gzip) holding
// boot/kernel, boot/initrd and boot/cmdline next to the root tree.
package payload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"
)

// Files GRUB and the writers need from a payload.
const (
	Kernel  = "/boot/kernel"
	Initrd  = "/boot/initrd"
	Cmdline = "/boot/cmdline"
)

// ErrInvalid is returned for a file that is not a usable payload.
var ErrInvalid = errors.New("invalid payload")

// Compressions are the squashfs compressors a payload may use, smallest
// first. GRUB's squash4 reads both (and lzo, which go-diskfs, the reader
// here, failed on: "lzo: output overrun"). xz is about 14% smaller; gzip
// decompresses several times faster, so a gzip payload boots faster.
var Compressions = []string{"xz", "gzip"}

// CheckCompression returns an error naming the choices unless comp is one
// of Compressions.
func CheckCompression(comp string) error {
	if !slices.Contains(Compressions, comp) {
		return fmt.Errorf("squashfs compression %q: a payload is one of %s (GRUB and ros read no other)",
			comp, strings.Join(Compressions, ", "))
	}
	return nil
}

// Squashfs compression ids (superblock offset 20).
var compressions = map[uint16]string{1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}

// Info describes a payload.
type Info struct {
	Path        string
	Size        int64
	Compression string // "gzip" or "xz"
	Cmdline     string // boot/cmdline, trimmed to one line
}

// Payload is an open payload.
type Payload struct {
	Info
	f  *os.File
	fs *squashfs.FileSystem
}

// Open opens and checks a payload: a squashfs that GRUB 2.06 can read
// (gzip or xz) with boot/kernel, boot/initrd and boot/cmdline.
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
	sb := make([]byte, 96)
	if _, err := f.ReadAt(sb, 0); err != nil {
		return nil, fmt.Errorf("%w: read superblock: %w", ErrInvalid, err)
	}
	if string(sb[:4]) != "hsqs" {
		return nil, fmt.Errorf("%w: not a squashfs (magic %q)", ErrInvalid, sb[:4])
	}
	comp := compressions[binary.LittleEndian.Uint16(sb[20:])]
	if err := CheckCompression(comp); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	fs, err := squashfs.Read(file.New(f, true), fi.Size(), 0, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: read squashfs: %w", ErrInvalid, err)
	}
	p := &Payload{Info: Info{Path: f.Name(), Size: fi.Size(), Compression: comp}, f: f, fs: fs}
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

// Stat returns the size of the regular file name inside the payload.
func (p *Payload) Stat(name string) (int64, error) {
	dir, base := path.Split(fsPath(name))
	entries, err := p.fs.ReadDir(path.Clean(dir))
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
	f, err := p.fs.OpenFile(fsPath(name), os.O_RDONLY)
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
