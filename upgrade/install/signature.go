package install

import (
	"bytes"
	"encoding/binary"
	"io"
)

// signature is an on-disk structure found at a fixed place.
type signature struct {
	name  string
	off   int64
	magic []byte
}

// Whole-device filesystems and volume headers worth refusing to overwrite.
var signatures = []signature{
	{"a GPT partition table", 512, []byte("EFI PART")},
	{"a GPT partition table (4 KiB sectors)", 4096, []byte("EFI PART")},
	{"an ext2/3/4 filesystem", 1080, []byte{0x53, 0xef}},
	{"an ISO 9660 filesystem", 32769, []byte("CD001")},
	{"a squashfs filesystem", 0, []byte("hsqs")},
	{"an XFS filesystem", 0, []byte("XFSB")},
	{"a btrfs filesystem", 65600, []byte("_BHRfS_M")},
	{"an LVM physical volume", 512 + 24, []byte("LVM2 001")},
	{"a swap area", 4096 - 10, []byte("SWAPSPACE2")},
	{"a FAT filesystem", 82, []byte("FAT32   ")},
	{"a FAT filesystem", 54, []byte("FAT1")},
	{"a LUKS volume", 0, []byte("LUKS\xba\xbe")},
}

// probe returns what r (a whole disk of size bytes) already holds: a
// partition table or a filesystem, or "" when it looks blank.
func probe(r io.ReaderAt, size int64) (string, error) {
	head := make([]byte, 70*1024)
	n, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return "", err
	}
	head = head[:n]
	for _, s := range signatures {
		end := s.off + int64(len(s.magic))
		if end <= int64(len(head)) && bytes.Equal(head[s.off:end], s.magic) {
			return s.name, nil
		}
	}
	if len(head) >= 512 && head[510] == 0x55 && head[511] == 0xaa {
		for i := 0; i < 4; i++ {
			e := head[446+16*i : 446+16*(i+1)]
			if e[4] != 0 && binary.LittleEndian.Uint32(e[12:]) != 0 {
				return "an MBR partition table", nil
			}
		}
		return "a boot sector", nil
	}
	// A backup GPT header in the last sector without a primary one.
	if size >= 1024 {
		last := make([]byte, 8)
		if _, err := r.ReadAt(last, size-512); err == nil && bytes.Equal(last, []byte("EFI PART")) {
			return "a backup GPT partition table", nil
		}
	}
	return "", nil
}
