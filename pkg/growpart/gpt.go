package growpart

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf16"
)

// GPT layout (UEFI 2.10, chapter 5.3). Only the fields growing touches are
// decoded; everything else is carried over as raw bytes.
const (
	gptSignature   = "EFI PART"
	minHeaderSize  = 92
	minEntrySize   = 128
	maxEntryBytes  = 1 << 20 // an entry array's size; tools write 16 KiB
	offHeaderSize  = 12
	offHeaderCRC   = 16
	offMyLBA       = 24
	offAltLBA      = 32
	offFirstUsable = 40
	offLastUsable  = 48
	offEntriesLBA  = 72
	offNumEntries  = 80
	offEntrySize   = 84
	offEntriesCRC  = 88

	entTypeGUID = 0
	entFirstLBA = 32
	entLastLBA  = 40
	entName     = 56
	entNameLen  = 72 // 36 UTF-16 code units
)

// header is a GPT header sector, raw, with accessors for the fields used.
type header []byte

func (h header) u32(off int) uint32      { return binary.LittleEndian.Uint32(h[off:]) }
func (h header) u64(off int) uint64      { return binary.LittleEndian.Uint64(h[off:]) }
func (h header) put32(off int, v uint32) { binary.LittleEndian.PutUint32(h[off:], v) }
func (h header) put64(off int, v uint64) { binary.LittleEndian.PutUint64(h[off:], v) }
func (h header) size() uint32            { return h.u32(offHeaderSize) }
func (h header) entriesBytes() uint64 {
	return uint64(h.u32(offNumEntries)) * uint64(h.u32(offEntrySize))
}
func (h header) entriesSectors(ss uint64) uint64 { return (h.entriesBytes() + ss - 1) / ss }

// crc computes the header CRC32 with the CRC field taken as zero.
func (h header) crc() uint32 {
	b := bytes.Clone(h[:h.size()])
	binary.LittleEndian.PutUint32(b[offHeaderCRC:], 0)
	return crc32.ChecksumIEEE(b)
}

// seal stores the header CRC.
func (h header) seal() { h.put32(offHeaderCRC, h.crc()) }

// table is one copy of a GPT: its header and partition entry array.
type table struct {
	hdr     header
	entries []byte
}

// readTable reads and checks the GPT header at lba and its entry array.
func readTable(d io.ReaderAt, lba, sectorSize uint64) (table, error) {
	h := make(header, sectorSize)
	if _, err := d.ReadAt(h, int64(lba*sectorSize)); err != nil { //nolint:gosec // G115: lba is below the disk size
		return table{}, fmt.Errorf("read GPT header at LBA %d: %w", lba, err)
	}
	if string(h[:8]) != gptSignature {
		return table{}, fmt.Errorf("LBA %d: %w", lba, ErrNoGPT)
	}
	if hs := h.size(); hs < minHeaderSize || uint64(hs) > sectorSize {
		return table{}, fmt.Errorf("GPT header at LBA %d: size %d: %w", lba, hs, ErrCorrupt)
	}
	if got, want := h.crc(), h.u32(offHeaderCRC); got != want {
		return table{}, fmt.Errorf("GPT header at LBA %d: CRC %#08x, stored %#08x: %w", lba, got, want, ErrCorrupt)
	}
	if h.u64(offMyLBA) != lba {
		return table{}, fmt.Errorf("GPT header at LBA %d says it is at LBA %d: %w", lba, h.u64(offMyLBA), ErrCorrupt)
	}
	n, es := h.u32(offNumEntries), h.u32(offEntrySize)
	if es < minEntrySize || es%8 != 0 || n == 0 || h.entriesBytes() > maxEntryBytes {
		return table{}, fmt.Errorf("GPT header at LBA %d: %d entries of %d bytes: %w", lba, n, es, ErrCorrupt)
	}
	entries := make([]byte, h.entriesBytes())
	if _, err := d.ReadAt(entries, int64(h.u64(offEntriesLBA)*sectorSize)); err != nil { //nolint:gosec // G115: checked against the disk by the caller's reads
		return table{}, fmt.Errorf("read GPT entries at LBA %d: %w", h.u64(offEntriesLBA), err)
	}
	if got, want := crc32.ChecksumIEEE(entries), h.u32(offEntriesCRC); got != want {
		return table{}, fmt.Errorf("GPT entries at LBA %d: CRC %#08x, stored %#08x: %w", h.u64(offEntriesLBA), got, want, ErrCorrupt)
	}
	return table{hdr: h, entries: entries}, nil
}

// entry is one partition entry, sliced out of a table's array (writes go
// through to the array).
type entry []byte

func (t table) entry(i int) entry {
	es := int(t.hdr.u32(offEntrySize))
	return entry(t.entries[i*es : (i+1)*es])
}

func (t table) numEntries() int { return int(t.hdr.u32(offNumEntries)) }

func (e entry) used() bool       { return !bytes.Equal(e[entTypeGUID:entTypeGUID+16], make([]byte, 16)) }
func (e entry) first() uint64    { return binary.LittleEndian.Uint64(e[entFirstLBA:]) }
func (e entry) last() uint64     { return binary.LittleEndian.Uint64(e[entLastLBA:]) }
func (e entry) setLast(v uint64) { binary.LittleEndian.PutUint64(e[entLastLBA:], v) }

// name decodes the UTF-16LE partition name up to its first NUL.
func (e entry) name() string {
	raw := e[entName : entName+entNameLen]
	u := make([]uint16, 0, entNameLen/2)
	for i := 0; i < len(raw); i += 2 {
		c := binary.LittleEndian.Uint16(raw[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
