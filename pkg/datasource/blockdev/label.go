// Package blockdev finds a filesystem by its label on the block devices of a
// Linux machine and mounts it read-only, for the NoCloud ("cidata") and
// config-drive ("config-2") datasources. Labels are read straight from the
// devices: the ISO9660 volume identifier, the FAT boot sector label and the
// ext2/3/4 superblock volume name.
package blockdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrUnknown is returned by Probe for data that is none of the filesystems
// it recognises.
var ErrUnknown = errors.New("no recognised filesystem")

// Filesystem types Probe reports, spelled as mount(2) wants them.
const (
	ISO9660 = "iso9660"
	VFAT    = "vfat"
	Ext4    = "ext4" // the ext4 driver mounts ext2 and ext3 as well
)

// On-disk offsets.
const (
	isoPVDOffset  = 16 * 2048 // primary volume descriptor: sector 16
	isoVolIDStart = 40        // volume identifier, 32 bytes: 32808 from the start
	isoVolIDLen   = 32
	extSBOffset   = 1024 // superblock
	extMagicAt    = 0x38
	extMagic      = 0xEF53
	extLabelAt    = 0x78 // s_volume_name, 16 bytes
	extLabelLen   = 16
)

// Probe reads the filesystem type and label of the device or image r. The
// label is returned without padding; a filesystem without a label gives "".
func Probe(r io.ReaderAt) (fstype, label string, err error) {
	if l, ok, err := probeISO(r); err != nil || ok {
		return ISO9660, l, err
	}
	if l, ok, err := probeExt(r); err != nil || ok {
		return Ext4, l, err
	}
	if l, ok, err := probeFAT(r); err != nil || ok {
		return VFAT, l, err
	}
	return "", "", ErrUnknown
}

// readAt reads len(b) bytes at off; a short device is "not this filesystem".
func readAt(r io.ReaderAt, b []byte, off int64) (bool, error) {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return true, nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return false, nil
	}
	return false, fmt.Errorf("read %d bytes at %d: %w", len(b), off, err)
}

func probeISO(r io.ReaderAt) (string, bool, error) {
	b := make([]byte, 2048)
	if ok, err := readAt(r, b, isoPVDOffset); !ok {
		return "", false, err
	}
	if b[0] != 1 || string(b[1:6]) != "CD001" {
		return "", false, nil
	}
	return string(bytes.TrimRight(b[isoVolIDStart:isoVolIDStart+isoVolIDLen], " \x00")), true, nil
}

func probeExt(r io.ReaderAt) (string, bool, error) {
	b := make([]byte, 1024)
	if ok, err := readAt(r, b, extSBOffset); !ok {
		return "", false, err
	}
	if binary.LittleEndian.Uint16(b[extMagicAt:]) != extMagic {
		return "", false, nil
	}
	name := b[extLabelAt : extLabelAt+extLabelLen]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return string(name), true, nil
}

// probeFAT reads the boot sector: FAT32 keeps its label at 71 (type name at
// 82), FAT12/16 at 43 (type name at 54), each valid when the extended boot
// signature 0x29 precedes the volume serial.
func probeFAT(r io.ReaderAt) (string, bool, error) {
	b := make([]byte, 512)
	if ok, err := readAt(r, b, 0); !ok {
		return "", false, err
	}
	if b[510] != 0x55 || b[511] != 0xAA {
		return "", false, nil
	}
	var label []byte
	switch {
	case string(b[82:87]) == "FAT32" && b[66] == 0x29:
		label = b[71:82]
	case string(b[54:57]) == "FAT" && b[38] == 0x29:
		label = b[43:54]
	default:
		return "", false, nil
	}
	l := string(bytes.TrimRight(label, " \x00"))
	if l == "NO NAME" {
		l = ""
	}
	return l, true, nil
}
