package initrd

import "context"

// System is what stage 1 asks of the kernel. The machine's implementation is
// Host; tests use a fake rooted in a temporary directory, so the sequencing
// and root discovery run without root privileges.
type System interface {
	// Path maps an absolute path of the machine to one this process opens:
	// itself on the machine, a path under a temporary directory in tests.
	Path(p string) string
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string) error
	// LoopAttach binds a file or block device, from byte offset on, to a
	// free loop device, read-only, and returns the device path; the binding
	// goes away when its last user does.
	LoopAttach(file string, offset int64) (string, error)
	// ResizeExt4 grows the mounted ext4 at mountpoint to blocks blocks.
	ResizeExt4(mountpoint string, blocks uint64) error
	// ResizePartition tells the kernel that partition partno of the disk
	// device now spans length bytes from start (BLKPG_RESIZE_PARTITION);
	// the partition table on the disk is the caller's to write.
	ResizePartition(disk string, partno int, start, length int64) error
	// InsertModule loads one kernel module file (see kmod.Insert).
	InsertModule(path, params string) error
	// Release returns the running kernel's release (uname -r).
	Release() (string, error)
	// Shell runs /bin/sh chrooted into root on the console until it exits.
	Shell(ctx context.Context, root string) error
	// SwitchRoot empties the initramfs, makes newRoot the root and execs
	// init; it returns only on failure.
	SwitchRoot(newRoot, init string) error
	// Reboot restarts the machine.
	Reboot() error
}
