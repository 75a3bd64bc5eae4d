// Package growpart moves a GPT's backup copy to the end of a disk that grew
// and extends the last partition, the state partition, to fill it: what
// cloud-utils growpart does, for a disk image written to a larger disk. The
// GPT is edited in place: every byte of it is kept except the fields that
// describe the disk's end, the grown partition's last LBA and the CRCs, so
// GUIDs, type GUIDs, names and attributes stay as they were.
package growpart

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Sentinel errors; Grow wraps them with context.
var (
	ErrNoGPT       = errors.New("no GPT")
	ErrCorrupt     = errors.New("GPT is corrupt")
	ErrNotFound    = errors.New("partition not found")
	ErrNotLast     = errors.New("partition is not the last one on the disk")
	ErrDiskSmaller = errors.New("disk is smaller than its GPT says")
)

// DefaultNames are the state partition's GPT names, in order of preference.
var DefaultNames = []string{"ROS_STATE", "RANCHER_STATE"}

// DefaultAlign is where a grown partition ends: on a 1 MiB boundary.
const DefaultAlign = 1 << 20

// Disk is a disk image or block device. When it also has Sync() error
// (an *os.File does), Grow calls it after writing.
type Disk interface {
	io.ReaderAt
	io.WriterAt
}

// Options say which disk and partition to grow.
type Options struct {
	Size       int64    // disk size in bytes (required)
	SectorSize int64    // logical sector size; 0 finds the GPT at 512 or 4096
	Names      []string // partition names to grow, first match wins; default DefaultNames
	Align      int64    // the new end is aligned down to this many bytes; default DefaultAlign
}

// Result says what Grow did, or would do.
type Result struct {
	Name        string // GPT name of the partition
	Partition   int    // its number (entry index from 1, as the kernel numbers it)
	SectorSize  int64
	Start       uint64 // first LBA
	OldEnd      uint64 // last LBA (inclusive) before
	NewEnd      uint64 // last LBA (inclusive) after; == OldEnd when not grown
	MovedBackup bool   // the backup GPT was moved to the disk's last LBA
}

// Changed reports whether the GPT was (or would be) rewritten.
func (r Result) Changed() bool { return r.MovedBackup || r.NewEnd != r.OldEnd }

// Grown reports whether the partition got larger.
func (r Result) Grown() bool { return r.NewEnd > r.OldEnd }

// OldSize and NewSize are the partition's sizes in bytes.
func (r Result) OldSize() int64 { return int64(r.OldEnd-r.Start+1) * r.SectorSize } //nolint:gosec // G115: LBAs of a disk whose size fits an int64
func (r Result) NewSize() int64 { return int64(r.NewEnd-r.Start+1) * r.SectorSize } //nolint:gosec // G115: as above

// StartBytes returns the partition's byte offset.
func (r Result) StartBytes() int64 { return int64(r.Start) * r.SectorSize } //nolint:gosec // G115: as above

// plan is a checked GPT and what to change in it.
type plan struct {
	Result
	primary  table
	state    int    // entry index
	lastLBA  uint64 // the disk's last LBA
	oldAlt   uint64 // where the backup header was
	oldAltOK bool   // a GPT header signature is there
	mbr      []byte // sector 0 with the protective MBR's size fixed, nil to leave it
	ss       uint64
}

// Check reads the GPT and reports what Grow would do, writing nothing.
func Check(d io.ReaderAt, o Options) (Result, error) {
	p, err := newPlan(d, o)
	return p.Result, err
}

// Grow moves the backup GPT to the end of a disk larger than its GPT says
// (the backup header is not at the last LBA) and extends the named
// partition, which must be the last on the disk, to the new last usable LBA
// aligned down to o.Align. When the backup header is at the last LBA there
// is nothing to do (free space after the partition is left alone) and the
// Result's Changed is false. It refuses, writing nothing, when
// the primary GPT fails its checks, the partition is not last or the disk is
// smaller than the GPT.
//
// Writes go in an order that leaves a valid GPT after a crash at any point:
// the new backup first, then the primary (the kernel falls back to the new
// backup while the primary is half written), then the protective MBR, then
// the old backup header is wiped.
func Grow(d Disk, o Options) (Result, error) {
	p, err := newPlan(d, o)
	if err != nil || !p.Changed() {
		return p.Result, err
	}
	if err := p.write(d); err != nil {
		return p.Result, err
	}
	if s, ok := d.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return p.Result, fmt.Errorf("grow GPT: sync: %w", err)
		}
	}
	return p.Result, nil
}

// GrowFile is Grow on an open disk image or block device; a zero o.Size is
// taken from the file's end.
func GrowFile(f *os.File, o Options) (Result, error) {
	if o.Size == 0 {
		end, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return Result{}, fmt.Errorf("grow GPT of %s: size: %w", f.Name(), err)
		}
		o.Size = end
	}
	r, err := Grow(f, o)
	if err != nil {
		return r, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return r, nil
}

func newPlan(d io.ReaderAt, o Options) (plan, error) {
	if len(o.Names) == 0 {
		o.Names = DefaultNames
	}
	if o.Align <= 0 {
		o.Align = DefaultAlign
	}
	sizes := []int64{o.SectorSize}
	if o.SectorSize == 0 {
		sizes = []int64{512, 4096}
	}
	var p plan
	var err error
	for _, ss := range sizes {
		if ss < 512 || o.Size < 3*ss {
			err = fmt.Errorf("grow GPT: disk of %d bytes with %d-byte sectors: %w", o.Size, ss, ErrNoGPT)
			continue
		}
		p = plan{ss: uint64(ss), Result: Result{SectorSize: ss}} //nolint:gosec // G115: positive
		p.primary, err = readTable(d, 1, p.ss)
		if err == nil || !errors.Is(err, ErrNoGPT) {
			break
		}
	}
	if err != nil {
		return plan{}, fmt.Errorf("grow GPT: primary: %w", err)
	}
	ss := p.ss
	h := p.primary.hdr
	sectors := uint64(o.Size) / ss //nolint:gosec // G115: checked positive above
	p.lastLBA = sectors - 1
	p.oldAlt = h.u64(offAltLBA)
	entSectors := h.entriesSectors(ss)
	if p.oldAlt > p.lastLBA || h.u64(offLastUsable) > p.lastLBA || h.u64(offEntriesLBA)+entSectors > sectors {
		return plan{}, fmt.Errorf("grow GPT: backup header at LBA %d, last usable LBA %d, disk's last LBA %d: %w",
			p.oldAlt, h.u64(offLastUsable), p.lastLBA, ErrDiskSmaller)
	}
	if err := p.findState(o.Names); err != nil {
		return plan{}, err
	}
	st := p.primary.entry(p.state)
	if st.last() > h.u64(offLastUsable) {
		return plan{}, fmt.Errorf("grow GPT: %s ends at LBA %d, past the last usable LBA %d: %w", p.Name, st.last(), h.u64(offLastUsable), ErrCorrupt)
	}

	newLastUsable := p.lastLBA - entSectors - 1
	align := uint64(o.Align) / ss //nolint:gosec // G115: positive
	if align == 0 {
		align = 1
	}
	if p.oldAlt == p.lastLBA {
		return p, nil // the disk did not grow; free space after the partition is left alone
	}
	p.MovedBackup = true
	if target := (newLastUsable+1)/align*align - 1; target > st.last() {
		p.NewEnd = target
	}

	var mbr [512]byte
	if _, err := d.ReadAt(mbr[:], 0); err != nil {
		return plan{}, fmt.Errorf("grow GPT: read MBR: %w", err)
	}
	if fixProtectiveMBR(mbr[:], sectors) {
		p.mbr = mbr[:]
	}
	if p.MovedBackup {
		sig := make([]byte, 8)
		if _, err := d.ReadAt(sig, int64(p.oldAlt*ss)); err == nil && string(sig) == gptSignature { //nolint:gosec // G115: below the disk size
			p.oldAltOK = p.oldAlt > st.last()
		}
	}
	return p, nil
}

// findState sets p.state to the first entry named after names, in order of
// preference, and checks that every other partition ends before it starts.
func (p *plan) findState(names []string) error {
	t := p.primary
	p.state = -1
	for _, name := range names {
		for i := 0; i < t.numEntries() && p.state < 0; i++ {
			if e := t.entry(i); e.used() && e.name() == name {
				p.state = i
			}
		}
		if p.state >= 0 {
			break
		}
	}
	if p.state < 0 {
		return fmt.Errorf("grow GPT: %v: %w", names, ErrNotFound)
	}
	st := t.entry(p.state)
	p.Name, p.Partition = st.name(), p.state+1
	p.Start, p.OldEnd, p.NewEnd = st.first(), st.last(), st.last()
	if st.last() < st.first() {
		return fmt.Errorf("grow GPT: %s spans LBA %d to %d: %w", p.Name, st.first(), st.last(), ErrCorrupt)
	}
	for i := 0; i < t.numEntries(); i++ {
		if e := t.entry(i); i != p.state && e.used() && e.last() >= st.first() {
			return fmt.Errorf("grow GPT: %s (LBA %d-%d) vs partition %d %q (LBA %d-%d): %w",
				p.Name, st.first(), st.last(), i+1, e.name(), e.first(), e.last(), ErrNotLast)
		}
	}
	return nil
}

// chunk is one write of Grow.
type chunk struct {
	what string
	off  int64
	b    []byte
}

// write applies the plan; see Grow for the order.
func (p *plan) write(d io.WriterAt) error {
	ss := p.ss
	entries := bytes.Clone(p.primary.entries)
	t := table{hdr: bytes.Clone(p.primary.hdr), entries: entries}
	t.entry(p.state).setLast(p.NewEnd)
	entSectors := t.hdr.entriesSectors(ss)
	padded := make([]byte, entSectors*ss)
	copy(padded, entries)

	primary := t.hdr
	primary.put64(offAltLBA, p.lastLBA)
	primary.put64(offLastUsable, p.lastLBA-entSectors-1)
	primary.put32(offEntriesCRC, crc32.ChecksumIEEE(entries))
	primary.seal()

	backup := header(bytes.Clone(primary))
	backupEntries := p.lastLBA - entSectors
	backup.put64(offMyLBA, p.lastLBA)
	backup.put64(offAltLBA, 1)
	backup.put64(offEntriesLBA, backupEntries)
	backup.seal()

	at := func(lba uint64) int64 { return int64(lba * ss) } //nolint:gosec // G115: below the disk size
	writes := []chunk{
		{"backup GPT entries", at(backupEntries), padded},
		{"backup GPT header", at(p.lastLBA), backup},
		{"primary GPT entries", at(primary.u64(offEntriesLBA)), padded},
		{"primary GPT header", at(1), primary},
	}
	if p.mbr != nil {
		writes = append(writes, chunk{"protective MBR", 0, p.mbr})
	}
	if p.oldAltOK {
		writes = append(writes, chunk{"old backup GPT header", at(p.oldAlt), make([]byte, ss)})
	}
	for _, w := range writes {
		if _, err := d.WriteAt(w.b, w.off); err != nil {
			return fmt.Errorf("grow GPT: write %s at byte %d: %w", w.what, w.off, err)
		}
	}
	return nil
}
