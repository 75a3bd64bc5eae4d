package install

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// target is the disk being installed: a block device, held open
// exclusively (the kernel refuses that while it or a partition is mounted
// or otherwise claimed, and refuses mounts while we hold it), or a disk
// image file.
type target struct {
	path       string
	f          *os.File
	block      bool
	size       int64
	sectorSize int64
	parts      []string // partitions the kernel knows on a block device
}

// openTarget opens path for writing. A device that is in use fails with
// ErrInUse and the reasons s finds.
func openTarget(s system, path string) (*target, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	t := &target{path: path, sectorSize: 512}
	switch {
	case fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0:
		t.block = true
		num, err := devNumber(path)
		if err != nil {
			return nil, err
		}
		fam, err := s.family(num)
		if err != nil {
			return nil, err
		}
		for _, d := range fam[1:] {
			t.parts = append(t.parts, d.Name)
		}
		if why, err := s.users([]string{num}); err != nil {
			return nil, err
		} else if len(why) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrInUse, strings.Join(why, "; "))
		}
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_EXCL|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("%w: the kernel reports it busy (mounted, swap, or part of a RAID or LVM volume)", ErrInUse)
		}
		if err != nil {
			return nil, err
		}
		t.f = f
		var size uint64
		//nolint:gosec // G103: BLKGETSIZE64 writes the u64 size through this pointer
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.BLKGETSIZE64, uintptr(unsafe.Pointer(&size))); errno != 0 {
			f.Close()
			return nil, fmt.Errorf("size of %s: %w", path, errno)
		}
		t.size = int64(size)
		ss, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKSSZGET)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sector size of %s: %w", path, err)
		}
		t.sectorSize = int64(ss)
	case fi.Mode().IsRegular():
		nums, err := s.loopsOf(path)
		if err != nil {
			return nil, err
		}
		if len(nums) > 0 {
			why, err := s.users(nums)
			if err != nil {
				return nil, err
			}
			if len(why) > 0 {
				return nil, fmt.Errorf("%w: it backs a loop device: %s", ErrInUse, strings.Join(why, "; "))
			}
		}
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		t.f = f
		t.size = fi.Size()
	default:
		return nil, fmt.Errorf("%s is neither a block device nor a disk image file", path)
	}
	return t, nil
}

// devNumber returns the "major:minor" of the block device at path.
func devNumber(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return "", fmt.Errorf("%s is not a block device", path)
	}
	return fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))), nil
}

// dropCache makes the next reads of [off, off+n) come from the disk, not
// the page cache (after a Sync).
func (t *target) dropCache(off, n int64) error {
	if t.block {
		// BLKFLSBUF writes back and drops the device's whole buffer cache.
		if err := unix.IoctlSetInt(int(t.f.Fd()), unix.BLKFLSBUF, 0); err != nil {
			return fmt.Errorf("flush buffers of %s: %w", t.path, err)
		}
		return nil
	}
	if err := unix.Fadvise(int(t.f.Fd()), off, n, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop cached pages of %s: %w", t.path, err)
	}
	return nil
}

// punchHole deallocates [off, off+n) of an image file so it reads as
// zeros; it reports false when it could not (a block device, or a
// filesystem without hole punching).
func (t *target) punchHole(off, n int64) bool {
	if t.block || n <= 0 {
		return false
	}
	return unix.Fallocate(int(t.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n) == nil
}

// rereadPartitions asks the kernel to read the new partition table.
func (t *target) rereadPartitions() error {
	if !t.block {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, t.f.Fd(), unix.BLKRRPART, 0); errno != 0 {
		return errno
	}
	return nil
}

func (t *target) close() error { return t.f.Close() }
