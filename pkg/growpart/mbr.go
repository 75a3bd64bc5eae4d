package growpart

import "encoding/binary"

// Protective MBR (UEFI 2.10, 5.2.3): one partition record of type 0xEE
// starting at LBA 1 whose size covers the disk, capped at 0xFFFFFFFF.
const (
	mbrRecords   = 0x1BE
	mbrRecordLen = 16
	mbrTypeGPT   = 0xEE
)

// fixProtectiveMBR sets the protective record's size for a disk of sectors
// logical sectors and reports whether sector 0 changed. A hybrid MBR (other
// records in use) or no MBR is left alone: those are the user's.
func fixProtectiveMBR(sector0 []byte, sectors uint64) bool {
	if sector0[510] != 0x55 || sector0[511] != 0xAA {
		return false
	}
	prot := -1
	for i := range 4 {
		rec := sector0[mbrRecords+i*mbrRecordLen : mbrRecords+(i+1)*mbrRecordLen]
		switch {
		case rec[4] == 0:
		case rec[4] == mbrTypeGPT && binary.LittleEndian.Uint32(rec[8:]) == 1 && prot < 0:
			prot = i
		default:
			return false
		}
	}
	if prot < 0 {
		return false
	}
	want := uint32(0xFFFFFFFF)
	if sectors-1 < uint64(want) {
		want = uint32(sectors - 1) //nolint:gosec // G115: below 0xFFFFFFFF, checked above
	}
	size := sector0[mbrRecords+prot*mbrRecordLen+12:]
	if binary.LittleEndian.Uint32(size) == want {
		return false
	}
	binary.LittleEndian.PutUint32(size, want)
	return true
}
