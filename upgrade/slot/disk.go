// Package slot reads and writes the A/B slot partitions of a ros boot
// disk, a block device or a disk image file alike: finding the disk
// (sysfs PARTNAME), streaming a payload into a slot with a size check
// first and an fsync last, reading it back past the page cache to verify
// its sha256, and reading files (the OS version) from a slot's squashfs.
package slot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/upgrade/bootenv"
)

// Errors callers branch on.
var (
	// ErrNotFound: no disk holds ROS_A, ROS_B and ROS_EFI.
	ErrNotFound = errors.New("no ros boot disk found")
	// ErrAmbiguous: several disks do; use FindAll and choose.
	ErrAmbiguous = errors.New("more than one ros boot disk")
)

// Labels FindBoot needs on one disk.
var bootLabels = []string{disk.LabelA, disk.LabelB, disk.LabelEFI}

// Part is one partition of a block device.
type Part struct {
	Label  string // GPT partition name
	Number int    // partition number
	Dev    string // device node, e.g. /dev/sda4
	Major  int
	Minor  int
}

// Disk is a ros boot disk.
type Disk struct {
	Path   string       // the whole disk: /dev/sda, or an image file
	Layout *disk.Layout // partitions with byte offsets and sizes
	// Parts are the partitions of a block device, by label; nil for an
	// image file.
	Parts map[string]Part
	// ESP is the device node of the ESP (ROS_EFI) for bootenv.MountESP;
	// "" for an image file (use Bootenv, which reads the image directly).
	ESP string
}

// OpenImage returns the Disk of a ros disk image file.
func OpenImage(path string) (*Disk, error) {
	l, err := disk.ReadLayout(path)
	if err != nil {
		return nil, err
	}
	for _, label := range bootLabels {
		if _, err := l.Find(label); err != nil {
			return nil, fmt.Errorf("open %s: not a ros disk: %w", path, err)
		}
	}
	return &Disk{Path: path, Layout: l}, nil
}

// IsImage reports whether d is a disk image file rather than a device.
func (d *Disk) IsImage() bool { return d.Parts == nil }

// FindBoot returns the one disk holding partitions named ROS_A, ROS_B and
// ROS_EFI, read from sysRoot/class/block/*/uevent (PARTNAME); device nodes
// are under devRoot. Empty roots mean /sys and /dev.
func FindBoot(sysRoot, devRoot string) (*Disk, error) {
	disks, err := FindAll(sysRoot, devRoot)
	if err != nil {
		return nil, err
	}
	switch len(disks) {
	case 0:
		return nil, fmt.Errorf("%w: no disk has partitions named %s", ErrNotFound, strings.Join(bootLabels, ", "))
	case 1:
		return disks[0], nil
	}
	var names []string
	for _, d := range disks {
		names = append(names, d.Path)
	}
	return nil, fmt.Errorf("%w: %s", ErrAmbiguous, strings.Join(names, ", "))
}

// FindAll returns every disk holding ROS_A, ROS_B and ROS_EFI, by path.
func FindAll(sysRoot, devRoot string) ([]*Disk, error) {
	if sysRoot == "" {
		sysRoot = "/sys"
	}
	if devRoot == "" {
		devRoot = "/dev"
	}
	devs, err := scanBlock(sysRoot)
	if err != nil {
		return nil, err
	}
	byName := map[string]blockDev{}
	for _, d := range devs {
		byName[d.name] = d
	}
	found := map[string]*Disk{}
	for _, p := range devs {
		if p.devType != "partition" {
			continue
		}
		parent, ok := byName[p.parent]
		if !ok {
			continue
		}
		d := found[parent.name]
		if d == nil {
			d = &Disk{
				Path:   filepath.Join(devRoot, parent.devName),
				Layout: &disk.Layout{SectorSize: disk.SectorSize, Size: parent.size},
				Parts:  map[string]Part{},
			}
			found[parent.name] = d
		}
		d.Layout.Partitions = append(d.Layout.Partitions, disk.Partition{
			Number: p.partNum, Label: p.label, Start: p.start, Size: p.size,
		})
		if p.label != "" {
			d.Parts[p.label] = Part{Label: p.label, Number: p.partNum, Dev: filepath.Join(devRoot, p.devName), Major: p.major, Minor: p.minor}
		}
	}
	var disks []*Disk
	for _, d := range found {
		ok := true
		for _, label := range bootLabels {
			if _, has := d.Parts[label]; !has {
				ok = false
			}
		}
		if !ok {
			continue
		}
		sort.Slice(d.Layout.Partitions, func(i, j int) bool { return d.Layout.Partitions[i].Number < d.Layout.Partitions[j].Number })
		d.ESP = d.Parts[disk.LabelEFI].Dev
		disks = append(disks, d)
	}
	sort.Slice(disks, func(i, j int) bool { return disks[i].Path < disks[j].Path })
	return disks, nil
}

// Holds reports whether the device major:minor is d or one of its
// partitions (to pick the disk the running system came from).
func (d *Disk) Holds(major, minor int) bool {
	for _, p := range d.Parts {
		if p.Major == major && p.Minor == minor {
			return true
		}
	}
	return false
}

// Open returns slot "A" or "B": its partition device, or the image file at
// the partition's offset.
func (d *Disk) Open(slot string) (*Slot, error) {
	if slot != "A" && slot != "B" {
		return nil, fmt.Errorf("open slot %q: want A or B", slot)
	}
	p, err := d.Layout.Slot(slot)
	if err != nil {
		return nil, fmt.Errorf("open slot %s on %s: %w", slot, d.Path, err)
	}
	if d.IsImage() {
		return &Slot{Name: slot, Path: d.Path, Offset: p.Start, size: p.Size}, nil
	}
	part, ok := d.Parts[p.Label]
	if !ok {
		return nil, fmt.Errorf("open slot %s on %s: no device for %s", slot, d.Path, p.Label)
	}
	fi, err := os.Stat(part.Dev)
	if err != nil {
		return nil, fmt.Errorf("open slot %s: %w", slot, err)
	}
	return &Slot{Name: slot, Path: part.Dev, size: p.Size, block: fi.Mode()&os.ModeDevice != 0}, nil
}

// Bootenv returns the grubenv store of d: for a device, the ESP mounted
// under /run/ros (close unmounts it); for an image, an ImageStore.
func (d *Disk) Bootenv(ctx context.Context) (bootenv.Store, func() error, error) {
	if d.IsImage() {
		return &bootenv.ImageStore{Path: d.Path}, func() error { return nil }, nil
	}
	if d.ESP == "" {
		return nil, nil, fmt.Errorf("grubenv of %s: %w: %s", d.Path, disk.ErrNotFound, disk.LabelEFI)
	}
	s, unmount, err := bootenv.OpenESP(ctx, d.ESP)
	if err != nil {
		return nil, nil, err
	}
	return s, unmount, nil
}
