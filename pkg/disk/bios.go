package disk

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Offsets in GRUB's i386-pc images (grub/include/grub/i386/pc/boot.h and
// diskboot.S).
const (
	bootKernelSector = 0x5c          // boot.img: u64 LBA of core.img's first sector
	bootDriveCheck   = 0x66          // boot.img: 2-byte jump that distrusts %dl; NOPed
	mbrKeepFrom      = 0x1b8         // disk signature, partition table, 0x55AA stay
	coreBlocklist    = 0x200 - 12    // diskboot.img: first blocklist entry
	coreSegment      = uint16(0x820) // where diskboot loads the rest of core.img
)

// installBIOS puts GRUB's core.img into the BIOS boot partition and
// boot.img into the MBR, doing by hand what grub-bios-setup does (it
// cannot resolve a loop device here): core.img's first-sector blocklist
// points at the rest of core.img, boot.img points at core.img's first
// sector, and the protective MBR's partition table and signature are kept.
func installBIOS(f *os.File, part Partition, core, bootImg []byte) error {
	if len(bootImg) != 512 {
		return fmt.Errorf("install bios boot: boot.img is %d bytes, want 512", len(bootImg))
	}
	if part.Start < 0 || part.Size < 0 {
		return fmt.Errorf("install bios boot: BIOS boot partition at %d, %d bytes", part.Start, part.Size)
	}
	sectors := (int64(len(core)) + SectorSize - 1) / SectorSize
	if sectors*SectorSize > part.Size {
		return fmt.Errorf("install bios boot: core.img (%d bytes) does not fit the %d-byte BIOS boot partition", len(core), part.Size)
	}
	if sectors < 2 || sectors-1 > 0xffff {
		return fmt.Errorf("install bios boot: core.img has %d sectors", sectors)
	}
	img := make([]byte, sectors*SectorSize)
	copy(img, core)
	startLBA := uint64(part.Start / SectorSize)
	binary.LittleEndian.PutUint64(img[coreBlocklist:], startLBA+1)
	binary.LittleEndian.PutUint16(img[coreBlocklist+8:], uint16(sectors-1))
	binary.LittleEndian.PutUint16(img[coreBlocklist+10:], coreSegment)
	if _, err := f.WriteAt(img, part.Start); err != nil {
		return fmt.Errorf("install bios boot: write core.img: %w", err)
	}

	mbr := make([]byte, 512)
	if _, err := f.ReadAt(mbr, 0); err != nil && err != io.EOF {
		return fmt.Errorf("install bios boot: read MBR: %w", err)
	}
	if mbr[510] != 0x55 || mbr[511] != 0xaa {
		return fmt.Errorf("install bios boot: no protective MBR to keep")
	}
	boot := append([]byte(nil), bootImg...)
	copy(boot[mbrKeepFrom:], mbr[mbrKeepFrom:])
	binary.LittleEndian.PutUint64(boot[bootKernelSector:], startLBA)
	boot[bootDriveCheck], boot[bootDriveCheck+1] = 0x90, 0x90
	if _, err := f.WriteAt(boot, 0); err != nil {
		return fmt.Errorf("install bios boot: write MBR: %w", err)
	}
	return nil
}
