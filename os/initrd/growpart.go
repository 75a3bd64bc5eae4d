package initrd

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ros-os/ros/pkg/growpart"
)

// growPartition extends the state partition d to the end of its disk when
// the disk is larger than its GPT says (an image written to a larger disk),
// and tells the kernel the new size, before the partition is mounted. Any
// failure is a console warning: the state works at its old size.
func growPartition(s *State, d blockDev) {
	if d.Type != "partition" || d.PartName == "" {
		return // a whole disk, or no GPT name: nothing to grow
	}
	disk, partno, err := partitionDisk(s.Sys, d)
	if err != nil {
		s.Logf("warning: not growing partition %s: %v", d.PartName, err)
		return
	}
	r, err := growGPT(s.Sys, disk, d.PartName)
	if err != nil {
		s.Logf("warning: not growing partition %s: %v", d.PartName, err)
		return
	}
	if r.MovedBackup && !r.Grown() {
		s.Logf("state: moved the backup GPT of %s to the end of the disk", disk.Dev)
	}
	if !r.Grown() {
		return
	}
	if r.Partition != partno {
		s.Logf("warning: GPT entry %d of %s is %s, the kernel numbers it %d: not resizing it before a reboot", r.Partition, disk.Dev, r.Name, partno)
		return
	}
	if err := s.Sys.ResizePartition(disk.Dev, partno, r.StartBytes(), r.NewSize()); err != nil {
		s.Logf("warning: partition %s grown on disk, but the kernel keeps its old size until a reboot: %v", r.Name, err)
		return
	}
	s.Logf("state: grew partition %s from %d MiB to %d MiB", r.Name, r.OldSize()>>20, r.NewSize()>>20)
}

// growGPT runs growpart on the disk device.
func growGPT(sys System, disk blockDev, name string) (growpart.Result, error) {
	size, err := devSize(sys, disk)
	if err != nil {
		return growpart.Result{}, err
	}
	o := growpart.Options{Size: int64(size), Names: []string{name}} //nolint:gosec // G115: a disk size fits an int64
	if b, err := os.ReadFile(sys.Path(path.Join("/sys/class/block", disk.Name, "queue/logical_block_size"))); err == nil {
		o.SectorSize, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64) // 0 on error: growpart finds it
	}
	f, err := os.OpenFile(sys.Path(disk.Dev), os.O_RDWR, 0)
	if err != nil {
		return growpart.Result{}, fmt.Errorf("open disk: %w", err)
	}
	r, err := growpart.Grow(f, o) // syncs f when it writes
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", disk.Dev, err)
	}
	return r, nil
}

// partitionDisk returns the disk holding partition d and d's number. In
// sysfs a partition is a subdirectory of its disk's: /sys/class/block/vda5
// links to .../block/vda/vda5.
func partitionDisk(sys System, d blockDev) (blockDev, int, error) {
	dir := sys.Path(path.Join("/sys/class/block", d.Name))
	target, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return blockDev{}, 0, fmt.Errorf("find the disk of %s: %w", d.Dev, err)
	}
	parent := filepath.Base(filepath.Dir(target))
	b, err := os.ReadFile(filepath.Join(dir, "partition"))
	if err != nil {
		return blockDev{}, 0, fmt.Errorf("partition number of %s: %w", d.Dev, err)
	}
	partno, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return blockDev{}, 0, fmt.Errorf("partition number of %s: %w", d.Dev, err)
	}
	devs, err := listBlockDevs(sys)
	if err != nil {
		return blockDev{}, 0, err
	}
	for _, disk := range devs {
		if disk.Name == parent && disk.Type == "disk" {
			return disk, partno, nil
		}
	}
	return blockDev{}, 0, fmt.Errorf("find the disk of %s: %s is not a disk", d.Dev, parent)
}
