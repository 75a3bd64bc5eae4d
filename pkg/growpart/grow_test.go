package growpart

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

const mib = 1 << 20

// part is one partition of a test image, sizes in MiB from the 1 MiB mark.
type part struct {
	name  string
	mib   int64
	attrs uint64
}

// rosParts is the ros layout in miniature: BIOS boot, ESP, A, B, state.
var rosParts = []part{{"BIOS boot", 1, 0}, {"ROS_EFI", 8, 0}, {"ROS_A", 8, 0}, {"ROS_B", 8, 1 << 63}, {"ROS_STATE", 8, 1<<60 | 4}}

// makeImage writes a GPT disk image with go-diskfs: the partitions back to
// back from 1 MiB, and 1 MiB at the end for the backup GPT, as pkg/disk
// does, plus free MiB free space. It returns the path and the image size.
func makeImage(t *testing.T, sectorSize int64, parts []part, free int64) (string, int64) {
	t.Helper()
	size := int64(2*mib) + free*mib
	for _, p := range parts {
		size += p.mib * mib
	}
	path := filepath.Join(t.TempDir(), "disk.img")
	d, err := diskfs.Create(path, size, diskfs.SectorSize(sectorSize))
	if err != nil {
		t.Fatal(err)
	}
	tab := &gpt.Table{LogicalSectorSize: int(sectorSize), PhysicalSectorSize: int(sectorSize), ProtectiveMBR: true,
		GUID: "5D1E4C7A-1B2C-4D3E-8F90-A1B2C3D4E5F6"}
	start := uint64(mib / sectorSize)
	for i, p := range parts {
		n := uint64(p.mib * mib / sectorSize)
		typ := gpt.LinuxFilesystem
		if i == 0 {
			typ = gpt.BIOSBoot
		}
		tab.Partitions = append(tab.Partitions, &gpt.Partition{
			Index: i + 1, Start: start, End: start + n - 1, Size: uint64(p.mib * mib), Type: typ, Name: p.name,
			GUID: "0000000" + strconv.Itoa(i+1) + "-1111-4222-8333-444455556666", Attributes: p.attrs,
		})
		start += n
	}
	if err := d.Partition(tab); err != nil {
		t.Fatal(err)
	}
	d.Close()
	return path, size
}

func resize(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// sum hashes what a test image holds: its first 64 MiB (all of the images
// made here) and its last MiB (a backup GPT moved to the end).
func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	head := make([]byte, min(fi.Size(), 64*mib))
	tail := make([]byte, min(fi.Size(), mib))
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(tail, fi.Size()-int64(len(tail))); err != nil {
		t.Fatal(err)
	}
	h.Write(head)
	h.Write(tail)
	return [32]byte(h.Sum(nil))
}

func growPath(t *testing.T, path string, o Options) (Result, error) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return GrowFile(f, o)
}

// readBoth reads and checks the primary GPT and the backup at the disk's end.
func readBoth(t *testing.T, path string, ss uint64) (table, table) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	primary, err := readTable(f, 1, ss)
	if err != nil {
		t.Fatalf("primary GPT: %v", err)
	}
	last := uint64(fi.Size())/ss - 1
	if got := primary.hdr.u64(offAltLBA); got != last {
		t.Errorf("primary GPT alternate LBA = %d, want %d", got, last)
	}
	backup, err := readTable(f, last, ss)
	if err != nil {
		t.Fatalf("backup GPT: %v", err)
	}
	return primary, backup
}

func TestGrow(t *testing.T) {
	tests := []struct {
		name       string
		sectorSize int64
		parts      []part
		grow       int64 // bytes added to the image
		free       int64 // MiB of free space after the last partition in the image
		optSS      int64
		wantEnd    func(size, ss int64) int64 // new last LBA of the state partition, from the new size
		wantMoved  bool
	}{
		{"1 GiB more", 512, rosParts, 1 << 30, 0, 0, alignedEnd, true},
		{"1 GiB more, sector size given", 512, rosParts, 1 << 30, 0, 512, alignedEnd, true},
		{"4K sectors", 4096, rosParts, 64 * mib, 0, 0, alignedEnd, true},
		{"odd growth", 512, rosParts, 3*mib + 7*512, 0, 0, alignedEnd, true},
		{"512 KiB more: the end slack joins", 512, rosParts, 512 * 1024, 0, 0, alignedEnd, true},
		{"8 KiB more: backup moves only", 512, rosParts, 8 * 1024, 0, 0, unchangedEnd, true},
		{"free space in the image too", 512, rosParts, 16 * mib, 5, 0, alignedEnd, true},
		{"RANCHER_STATE", 512, []part{{"BIOS boot", 1, 0}, {"RANCHER_STATE", 4, 0}}, 16 * mib, 0, 0, alignedEnd, true},
		{"same size: nothing to do", 512, rosParts, 0, 0, 0, unchangedEnd, false},
		{"same size, free space after the state: left alone", 512, rosParts, 0, 5, 0, unchangedEnd, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, size := makeImage(t, tt.sectorSize, tt.parts, tt.free)
			before, _ := readBoth(t, path, uint64(tt.sectorSize))
			oldEnd := int64(before.entry(len(tt.parts) - 1).last())
			newSize := size + tt.grow
			resize(t, path, newSize)
			unchanged := sum(t, path)

			got, err := growPath(t, path, Options{SectorSize: tt.optSS})
			if err != nil {
				t.Fatalf("Grow() = %v", err)
			}
			wantEnd := tt.wantEnd(newSize, tt.sectorSize)
			if wantEnd < 0 {
				wantEnd = oldEnd
			}
			if got.OldEnd != uint64(oldEnd) || got.NewEnd != uint64(wantEnd) || got.MovedBackup != tt.wantMoved ||
				got.Partition != len(tt.parts) || got.SectorSize != tt.sectorSize || got.Name != tt.parts[len(tt.parts)-1].name {
				t.Errorf("Grow() = %+v, want %s number %d from LBA %d to %d, moved backup %v",
					got, tt.parts[len(tt.parts)-1].name, len(tt.parts), oldEnd, wantEnd, tt.wantMoved)
			}
			if !got.Changed() {
				if sum(t, path) != unchanged {
					t.Errorf("Grow() changed nothing but wrote to the disk")
				}
				return
			}
			if wantSize := (wantEnd - int64(got.Start) + 1) * tt.sectorSize; got.NewSize() != wantSize {
				t.Errorf("Grow().NewSize() = %d, want %d", got.NewSize(), wantSize)
			}

			primary, backup := readBoth(t, path, uint64(tt.sectorSize))
			checkKept(t, before, primary, len(tt.parts)-1, uint64(wantEnd))
			if !bytes.Equal(primary.entries, backup.entries) {
				t.Errorf("backup GPT entries differ from the primary's")
			}
			checkMBR(t, path, newSize/tt.sectorSize)
			checkOldBackupGone(t, path, before, tt.sectorSize)
			sgdiskVerify(t, path, tt.sectorSize, tt.parts[len(tt.parts)-1].name, wantEnd)

			again, err := growPath(t, path, Options{})
			if err != nil || again.Changed() || again.NewEnd != uint64(wantEnd) {
				t.Errorf("Grow() a second time = %+v, %v, want no change at LBA %d", again, err, wantEnd)
			}
		})
	}
}

// alignedEnd is the state's last LBA on a disk of size bytes: the backup
// GPT takes 33 sectors (512-byte) or 5 (4K), then align down to 1 MiB.
func alignedEnd(size, ss int64) int64 {
	entSectors := 128 * 128 / ss
	lastUsable := size/ss - 1 - entSectors - 1
	return (lastUsable+1)/(mib/ss)*(mib/ss) - 1
}

func unchangedEnd(size, ss int64) int64 { return -1 }

// checkKept checks that the GPT after growth is the one before but for the
// disk's end, the grown partition's last LBA and the CRCs.
func checkKept(t *testing.T, before, after table, state int, newEnd uint64) {
	t.Helper()
	for i := 0; i < before.numEntries(); i++ {
		want := bytes.Clone(before.entry(i))
		if i == state {
			entry(want).setLast(newEnd)
		}
		if !bytes.Equal(after.entry(i), want) {
			t.Errorf("entry %d after growth = %x, want %x", i+1, after.entry(i), want)
		}
	}
	mask := func(h header) []byte {
		b := bytes.Clone(h)
		for _, off := range []int{offHeaderCRC, offEntriesCRC} {
			copy(b[off:off+4], make([]byte, 4))
		}
		for _, off := range []int{offAltLBA, offLastUsable} {
			copy(b[off:off+8], make([]byte, 8))
		}
		return b
	}
	if !bytes.Equal(mask(before.hdr), mask(after.hdr)) {
		t.Errorf("primary header after growth differs beyond its end fields:\n%x\nwant\n%x", after.hdr[:92], before.hdr[:92])
	}
}

func checkMBR(t *testing.T, path string, sectors int64) {
	t.Helper()
	mbr := readBytes(t, path, 0, 512)
	got := int64(uint32(mbr[0x1CA]) | uint32(mbr[0x1CB])<<8 | uint32(mbr[0x1CC])<<16 | uint32(mbr[0x1CD])<<24)
	if mbr[0x1C2] != 0xEE || got != sectors-1 {
		t.Errorf("protective MBR type %#x size %d, want 0xee size %d", mbr[0x1C2], got, sectors-1)
	}
}

func readBytes(t *testing.T, path string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

func checkOldBackupGone(t *testing.T, path string, before table, ss int64) {
	t.Helper()
	old := int64(before.hdr.u64(offAltLBA))
	sig := readBytes(t, path, old*ss, 8)
	if string(sig) == gptSignature {
		t.Errorf("old backup GPT header still at LBA %d", old)
	}
}

// sgdiskVerify has sgdisk check the GPT and print the state partition's end.
func sgdiskVerify(t *testing.T, path string, ss int64, name string, wantEnd int64) {
	t.Helper()
	if _, err := exec.LookPath("sgdisk"); err != nil {
		t.Log("no sgdisk (package gdisk): skipping the oracle check")
		return
	}
	if ss != 512 {
		return // sgdisk takes the sector size of a file to be 512
	}
	out, err := exec.Command("sgdisk", "-v", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No problems found") {
		t.Errorf("sgdisk -v = %v\n%s", err, out)
	}
	out, err = exec.Command("sgdisk", "-p", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sgdisk -p: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`(?m)^\s+\d+\s+\d+\s+(\d+)\s+.*\s` + regexp.QuoteMeta(name) + `\s*$`)
	m := re.FindStringSubmatch(string(out))
	if m == nil || m[1] != strconv.FormatInt(wantEnd, 10) {
		t.Errorf("sgdisk -p: %s ends at %v, want %d\n%s", name, m, wantEnd, out)
	}
}

func TestGrowRefuses(t *testing.T) {
	tests := []struct {
		name    string
		parts   []part
		damage  func(t *testing.T, path string, size int64) int64 // returns the disk size to use
		names   []string
		wantErr error
	}{
		{"state not last", []part{{"BIOS boot", 1, 0}, {"ROS_STATE", 8, 0}, {"ROS_A", 8, 0}}, grown, nil, ErrNotLast},
		{"header CRC", rosParts, func(t *testing.T, path string, size int64) int64 {
			poke(t, path, 512+offLastUsable, 0x01) // a field changed, CRC not updated
			return grown(t, path, size)
		}, nil, ErrCorrupt},
		{"entries CRC", rosParts, func(t *testing.T, path string, size int64) int64 {
			poke(t, path, 2*512+4*128+entName, 'X') // rename ROS_STATE behind the CRC's back
			return grown(t, path, size)
		}, nil, ErrCorrupt},
		{"disk smaller", rosParts, func(t *testing.T, path string, size int64) int64 {
			resize(t, path, size-2*mib)
			return size - 2*mib
		}, nil, ErrDiskSmaller},
		{"no state", rosParts[:4], grown, nil, ErrNotFound},
		{"other name", rosParts, grown, []string{"DATA"}, ErrNotFound},
		{"no GPT", rosParts, func(t *testing.T, path string, size int64) int64 {
			poke(t, path, 512, 'X')
			return grown(t, path, size)
		}, nil, ErrNoGPT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, size := makeImage(t, 512, tt.parts, 0)
			newSize := tt.damage(t, path, size)
			before := sum(t, path)
			_, err := growPath(t, path, Options{Size: newSize, Names: tt.names})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Grow() = %v, want %v", err, tt.wantErr)
			}
			if sum(t, path) != before {
				t.Errorf("Grow() = %v, and the disk changed", err)
			}
		})
	}
}

func grown(t *testing.T, path string, size int64) int64 {
	resize(t, path, size+64*mib)
	return size + 64*mib
}

func poke(t *testing.T, path string, off int64, b byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{b}, off); err != nil {
		t.Fatal(err)
	}
}

// TestGrowSgdiskImage grows an image partitioned by sgdisk, not go-diskfs.
func TestGrowSgdiskImage(t *testing.T) {
	if _, err := exec.LookPath("sgdisk"); err != nil {
		t.Skip("needs sgdisk (package gdisk)")
	}
	path := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resize(t, path, 40*mib)
	out, err := exec.Command("sgdisk", "-n", "1:2048:+1M", "-t", "1:ef02", "-c", "1:BIOS boot",
		"-n", "2:0:+8M", "-t", "2:ef00", "-c", "2:ROS_EFI",
		"-n", "3:0:0", "-c", "3:ROS_STATE", "-A", "3:set:2", "-u", "3:9A1B2C3D-4E5F-4061-8273-A4B5C6D7E8F9", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sgdisk: %v\n%s", err, out)
	}
	before, _ := readBoth(t, path, 512)
	resize(t, path, 1<<30)
	got, err := growPath(t, path, Options{})
	want := alignedEnd(1<<30, 512)
	if err != nil || got.NewEnd != uint64(want) || !got.Grown() {
		t.Fatalf("Grow() = %+v, %v, want ROS_STATE grown to LBA %d", got, err, want)
	}
	primary, _ := readBoth(t, path, 512)
	checkKept(t, before, primary, 2, uint64(want))
	sgdiskVerify(t, path, 512, "ROS_STATE", want)
	out, err = exec.Command("sgdisk", "-i", "3", path).CombinedOutput()
	for _, want := range []string{"unique GUID: 9A1B2C3D-4E5F-4061-8273-A4B5C6D7E8F9", "Attribute flags: 0000000000000004", "name: 'ROS_STATE'"} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("sgdisk -i 3 after growth = %v, lacks %q:\n%s", err, want, out)
		}
	}
}
