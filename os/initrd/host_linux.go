package initrd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"github.com/ros-os/ros/pkg/kmod"
	"golang.org/x/sys/unix"
)

// Host is the System of the running machine.
type Host struct {
	mu    sync.Mutex
	loops []*os.File // open loop devices: closing one would autoclear it before the mount
}

var _ System = (*Host)(nil)

func (h *Host) Path(p string) string { return p }

func (h *Host) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}

func (h *Host) Unmount(target string) error { return unix.Unmount(target, 0) }

func (h *Host) InsertModule(path, params string) error { return kmod.Insert(path, params) }

func (h *Host) Release() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

func (h *Host) LoopAttach(file string, offset int64) (string, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("loop: %w", err)
	}
	defer ctl.Close()
	n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
	if err != nil {
		return "", fmt.Errorf("loop: get free device: %w", err)
	}
	dev := fmt.Sprintf("/dev/loop%d", n)
	loop, err := os.OpenFile(dev, os.O_RDONLY, 0)
	if err != nil {
		return "", fmt.Errorf("loop: %w", err)
	}
	back, err := os.Open(file)
	if err != nil {
		loop.Close()
		return "", fmt.Errorf("loop: %w", err)
	}
	defer back.Close()
	cfg := unix.LoopConfig{Fd: uint32(back.Fd())} //nolint:gosec // G115: a file descriptor is a small non-negative int
	cfg.Info.Offset = uint64(offset)              //nolint:gosec // G115: offsets come from a superblock checked against the size
	cfg.Info.Flags = unix.LO_FLAGS_READ_ONLY | unix.LO_FLAGS_AUTOCLEAR
	if fi, err := back.Stat(); err == nil && fi.Mode()&os.ModeDevice != 0 {
		// Over a slot partition: read the disk directly, so the squashfs
		// bytes are not cached twice (the partition's and the loop's).
		cfg.Info.Flags |= unix.LO_FLAGS_DIRECT_IO
	}
	copy(cfg.Info.File_name[:], file)
	if err := unix.IoctlLoopConfigure(int(loop.Fd()), &cfg); err != nil {
		loop.Close()
		return "", fmt.Errorf("loop: configure %s on %s: %w", dev, file, err)
	}
	h.mu.Lock()
	h.loops = append(h.loops, loop) // closed on exec (O_CLOEXEC), after the mount holds it
	h.mu.Unlock()
	return dev, nil
}

// ext4IocResizeFS is EXT4_IOC_RESIZE_FS, _IOW('f', 16, __u64).
const ext4IocResizeFS = 0x40086610

func (h *Host) ResizeExt4(mountpoint string, blocks uint64) error {
	f, err := os.Open(mountpoint)
	if err != nil {
		return fmt.Errorf("resize: %w", err)
	}
	defer f.Close()
	//nolint:gosec // G103: EXT4_IOC_RESIZE_FS reads the __u64 blocks through this pointer
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), ext4IocResizeFS, uintptr(unsafe.Pointer(&blocks))); errno != 0 {
		return fmt.Errorf("EXT4_IOC_RESIZE_FS %s: %w", mountpoint, errno)
	}
	return nil
}

func (h *Host) ResizePartition(disk string, partno int, start, length int64) error {
	f, err := os.Open(disk)
	if err != nil {
		return fmt.Errorf("resize partition: %w", err)
	}
	defer f.Close()
	p := unix.BlkpgPartition{Start: start, Length: length, Pno: int32(partno)} //nolint:gosec // G115: partition numbers are small
	arg := unix.BlkpgIoctlArg{
		Op:      unix.BLKPG_RESIZE_PARTITION,
		Datalen: int32(unsafe.Sizeof(p)),
		Data:    (*byte)(unsafe.Pointer(&p)), //nolint:gosec // G103: BLKPG reads the partition through this pointer
	}
	//nolint:gosec // G103: as above
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.BLKPG, uintptr(unsafe.Pointer(&arg))); errno != 0 {
		return fmt.Errorf("BLKPG_RESIZE_PARTITION %s partition %d to %d bytes: %w", disk, partno, length, errno)
	}
	return nil
}

func (h *Host) Shell(ctx context.Context, root string) error {
	cmd := exec.CommandContext(ctx, "/bin/sh")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=linux", "PS1=ros-initrd# "}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Setsid: true}
	return cmd.Run()
}

// SwitchRoot does what busybox switch_root does: delete the initramfs
// (it is RAM that nothing else can free), move newRoot onto /, chroot, exec.
func (h *Host) SwitchRoot(newRoot, init string) error {
	if err := os.Chdir(newRoot); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs("/", &sfs); err != nil {
		return fmt.Errorf("switch root: statfs /: %w", err)
	}
	if sfs.Type == unix.RAMFS_MAGIC || sfs.Type == unix.TMPFS_MAGIC {
		var st unix.Stat_t
		if err := unix.Stat("/", &st); err != nil {
			return fmt.Errorf("switch root: %w", err)
		}
		removeSameDev("/", st.Dev, newRoot)
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("switch root: move %s to /: %w", newRoot, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("switch root: chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	err := unix.Exec(init, []string{init}, os.Environ())
	return fmt.Errorf("switch root: exec %s: %w", init, err)
}

// removeSameDev deletes the tree at dir without crossing into other
// filesystems (the new root and moved mounts) and without failing: what
// cannot be removed only costs memory.
func removeSameDev(dir string, dev uint64, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if p == keep {
			continue
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil || st.Dev != dev {
			continue
		}
		if e.IsDir() {
			removeSameDev(p, dev, keep)
			_ = unix.Rmdir(p) // best effort, see above
			continue
		}
		_ = unix.Unlink(p) // best effort, see above
	}
}

func (h *Host) Reboot() error {
	unix.Sync()
	return unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
}
