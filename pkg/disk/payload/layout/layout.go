// Package layout finds the parts of a ros payload: the squashfs GRUB reads
// the kernel and initramfs from (the boot part, at offset 0) and the root
// filesystem Linux mounts. It reads superblocks only, so stage 1 (a small
// static program) and the host tools share it.
//
// A payload is either one squashfs holding boot/ and the root tree (the
// format before zstd; Boot and Root are the same part), or a boot squashfs
// followed by the root squashfs at the next multiple of Align:
//
//	0        boot squashfs (gzip or xz: GRUB's squash4 reads no other)
//	Align*k  root squashfs (zstd, xz or gzip: Linux reads them all)
//
// Two parts let the root use a compressor GRUB cannot read: zstd
// decompresses several times faster than xz, and at boot the kernel
// decompresses most of containerd and ros page by page.
package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Align is where the root part may start: a multiple of 4 KiB, so a loop
// device over the slot partition can use direct I/O.
const Align = 4096

// ErrNotSquashfs is returned when a part lacks the squashfs magic.
var ErrNotSquashfs = errors.New("no squashfs")

// Squashfs compression ids (superblock offset 20).
var compressions = map[uint16]string{1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}

// Part is one squashfs of a payload.
type Part struct {
	Offset      int64  // from the start of the payload
	Size        int64  // bytes_used of the superblock
	Compression string // "gzip", "xz", "zstd", …
	BlockSize   uint32
}

// Layout is where a payload's parts are.
type Layout struct {
	Boot Part
	Root Part
}

// Split reports whether the root is a squashfs of its own.
func (l Layout) Split() bool { return l.Root.Offset != l.Boot.Offset }

// Read finds the parts of the payload in r, whose first size bytes belong
// to it (a slot partition may hold old bytes after the payload; they are
// never mistaken for a root part unless they carry a whole, valid
// superblock at the aligned end of the boot part).
func Read(r io.ReaderAt, size int64) (Layout, error) {
	boot, err := ReadPart(r, 0, size)
	if err != nil {
		return Layout{}, fmt.Errorf("boot part: %w", err)
	}
	next := (boot.Size + Align - 1) / Align * Align
	root, err := ReadPart(r, next, size)
	if err != nil {
		// One squashfs: the root is the boot part.
		return Layout{Boot: boot, Root: boot}, nil //nolint:nilerr // no second superblock is the single-squashfs format
	}
	return Layout{Boot: boot, Root: root}, nil
}

// ReadPart reads the squashfs superblock at off and checks that the
// filesystem it describes ends within limit.
func ReadPart(r io.ReaderAt, off, limit int64) (Part, error) {
	sb := make([]byte, 96)
	if off+int64(len(sb)) > limit {
		return Part{}, fmt.Errorf("%w at %d: the payload ends at %d", ErrNotSquashfs, off, limit)
	}
	if _, err := r.ReadAt(sb, off); err != nil {
		return Part{}, fmt.Errorf("read superblock at %d: %w", off, err)
	}
	if string(sb[:4]) != "hsqs" {
		return Part{}, fmt.Errorf("%w at %d (magic %q)", ErrNotSquashfs, off, sb[:4])
	}
	le := binary.LittleEndian
	if major := le.Uint16(sb[28:]); major != 4 {
		return Part{}, fmt.Errorf("%w at %d: version %d, want 4", ErrNotSquashfs, off, major)
	}
	p := Part{
		Offset:      off,
		Size:        int64(le.Uint64(sb[40:])), //nolint:gosec // G115: checked against limit below
		Compression: compressions[le.Uint16(sb[20:])],
		BlockSize:   le.Uint32(sb[12:]),
	}
	if p.Compression == "" {
		return Part{}, fmt.Errorf("%w at %d: unknown compression id %d", ErrNotSquashfs, off, le.Uint16(sb[20:]))
	}
	if p.Size < int64(len(sb)) || p.Size > limit-off {
		return Part{}, fmt.Errorf("%w at %d: %d bytes used, but %d bytes are left", ErrNotSquashfs, off, p.Size, limit-off)
	}
	return p, nil
}

// Write writes a two-part payload to w: the boot squashfs, zeros up to the
// next multiple of Align, then the root squashfs.
func Write(w io.Writer, boot, root io.Reader) error {
	n, err := io.Copy(w, boot)
	if err != nil {
		return fmt.Errorf("write boot part: %w", err)
	}
	if pad := (Align - n%Align) % Align; pad > 0 {
		if _, err := w.Write(make([]byte, pad)); err != nil {
			return fmt.Errorf("write boot part: %w", err)
		}
	}
	if _, err := io.Copy(w, root); err != nil {
		return fmt.Errorf("write root part: %w", err)
	}
	return nil
}
