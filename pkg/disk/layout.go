package disk

import (
	"errors"
	"fmt"
	"strings"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// Partition names (GPT partition names = labels) of a ros disk.
const (
	LabelBIOS         = "BIOS boot"
	LabelEFI          = "ROS_EFI"
	LabelA            = "ROS_A"
	LabelB            = "ROS_B"
	LabelState        = "ROS_STATE"
	LabelRancherState = "RANCHER_STATE" // accepted as the state partition too
)

// Fixed partition numbers of the layout Write produces (grub.cfg and core.img
// refer to them).
const (
	PartBIOS  = 1
	PartEFI   = 2
	PartA     = 3
	PartB     = 4
	PartState = 5
)

// GPT partition type GUIDs used.
const (
	TypeBIOSBoot = string(gpt.BIOSBoot)
	TypeESP      = string(gpt.EFISystemPartition)
	TypeLinux    = string(gpt.LinuxFilesystem)
)

// Sizes.
const (
	MiB              = int64(1) << 20
	SectorSize       = int64(512)
	DefaultSlotSize  = 512 * MiB
	DefaultStateSize = 256 * MiB
	DefaultEFISize   = 64 * MiB
	biosSize         = 1 * MiB
	firstLBA         = 2048
)

// ErrNotFound is returned when a layout has no partition of that name.
var ErrNotFound = errors.New("partition not found")

// Partition is one GPT partition of a ros disk.
type Partition struct {
	Number int    `json:"number"` // GPT partition number, from 1
	Label  string `json:"label"`  // GPT partition name
	Type   string `json:"type"`   // GPT partition type GUID
	Start  int64  `json:"start"`  // byte offset on the disk
	Size   int64  `json:"size"`   // bytes
}

// End returns the byte offset just past the partition.
func (p Partition) End() int64 { return p.Start + p.Size }

// Layout is a ros disk's partition table as data, for writers and for the
// upgrade code that must find the slots later.
type Layout struct {
	SectorSize int64       `json:"sectorSize"`
	Size       int64       `json:"size"` // whole disk in bytes
	Partitions []Partition `json:"partitions"`
}

// Find returns the partition named label.
func (l *Layout) Find(label string) (Partition, error) {
	for _, p := range l.Partitions {
		if p.Label == label {
			return p, nil
		}
	}
	return Partition{}, fmt.Errorf("%w: %s", ErrNotFound, label)
}

// Slot returns slot "A" or "B".
func (l *Layout) Slot(name string) (Partition, error) {
	return l.Find("ROS_" + name)
}

// State returns the state partition (ROS_STATE, else RANCHER_STATE).
func (l *Layout) State() (Partition, error) {
	if p, err := l.Find(LabelState); err == nil {
		return p, nil
	}
	if p, err := l.Find(LabelRancherState); err == nil {
		return p, nil
	}
	return Partition{}, fmt.Errorf("%w: %s or %s", ErrNotFound, LabelState, LabelRancherState)
}

func alignUp(n, to int64) int64 { return (n + to - 1) / to * to }

// NewLayout computes the layout Write uses: BIOS boot (1 MiB at LBA 2048),
// ROS_EFI, ROS_A, ROS_B, ROS_STATE, each starting on a 1 MiB boundary, and
// 1 MiB at the end for the backup GPT.
func NewLayout(efiSize, slotSize, stateSize int64) (*Layout, error) {
	for name, n := range map[string]int64{"EFI": efiSize, "slot": slotSize, "state": stateSize} {
		if n < 8*MiB {
			return nil, fmt.Errorf("disk layout: %s size %d is below 8 MiB", name, n)
		}
	}
	l := &Layout{SectorSize: SectorSize}
	off := int64(firstLBA) * SectorSize
	add := func(num int, label, typ string, size int64) {
		size = alignUp(size, MiB)
		l.Partitions = append(l.Partitions, Partition{Number: num, Label: label, Type: typ, Start: off, Size: size})
		off += size
	}
	add(PartBIOS, LabelBIOS, TypeBIOSBoot, biosSize)
	add(PartEFI, LabelEFI, TypeESP, efiSize)
	add(PartA, LabelA, TypeLinux, slotSize)
	add(PartB, LabelB, TypeLinux, slotSize)
	add(PartState, LabelState, TypeLinux, stateSize)
	l.Size = off + MiB
	return l, nil
}

// gptTable turns the layout into a go-diskfs GPT table (protective MBR on).
func (l *Layout) gptTable() *gpt.Table {
	t := &gpt.Table{
		LogicalSectorSize:  int(l.SectorSize),
		PhysicalSectorSize: int(l.SectorSize),
		ProtectiveMBR:      true,
	}
	for _, p := range l.Partitions {
		// Offsets and sizes are positive: NewLayout makes them from sizes of
		// at least 8 MiB, ReadLayout from a GPT's unsigned LBAs.
		//nolint:gosec // G115: see above
		t.Partitions = append(t.Partitions, &gpt.Partition{
			Index: p.Number, // go-diskfs needs Index set explicitly
			Start: uint64(p.Start / l.SectorSize),
			End:   uint64(p.End()/l.SectorSize) - 1,
			Size:  uint64(p.Size),
			Type:  gpt.Type(p.Type),
			Name:  p.Label,
		})
	}
	return t
}

// ReadLayout reads the GPT of a disk image or block device.
func ReadLayout(path string) (*Layout, error) {
	d, err := diskfs.Open(path, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		return nil, fmt.Errorf("read layout %s: %w", path, err)
	}
	defer d.Close()
	table, err := d.GetPartitionTable()
	if err != nil {
		return nil, fmt.Errorf("read layout %s: %w", path, err)
	}
	t, ok := table.(*gpt.Table)
	if !ok {
		return nil, fmt.Errorf("read layout %s: not a GPT disk (%s)", path, table.Type())
	}
	l := &Layout{SectorSize: int64(t.LogicalSectorSize), Size: d.Size}
	for _, p := range t.Partitions {
		if p.Type == gpt.Unused {
			continue
		}
		l.Partitions = append(l.Partitions, Partition{
			Number: p.Index,
			Label:  strings.TrimRight(p.Name, "\x00"),
			Type:   string(p.Type),
			Start:  p.GetStart(),
			Size:   p.GetSize(),
		})
	}
	return l, nil
}
