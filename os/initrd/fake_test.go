package initrd

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSys records what stage 1 asks of the kernel; files live under root.
type fakeSys struct {
	root      string
	calls     []string
	loops     int
	failMount map[string]error // by target
	onMount   func(source, target, fstype string)
	// failResize makes ResizePartition fail; otherwise it sets the size
	// of /sys/class/block/<disk><partno> as the kernel would.
	failResize error
}

func (f *fakeSys) Path(p string) string { return filepath.Join(f.root, p) }

func (f *fakeSys) Mount(source, target, fstype string, flags uintptr, data string) error {
	call := strings.TrimSpace(fmt.Sprintf("mount %s %s %s %#x %s", fstype, source, target, flags, data))
	if err := f.failMount[target]; err != nil {
		f.calls = append(f.calls, call+" FAILED")
		return err
	}
	f.calls = append(f.calls, call)
	if f.onMount != nil {
		f.onMount(source, target, fstype)
	}
	return nil
}

func (f *fakeSys) Unmount(target string) error {
	f.calls = append(f.calls, "unmount "+target)
	return nil
}

func (f *fakeSys) LoopAttach(file string, offset int64) (string, error) {
	dev := fmt.Sprintf("/dev/loop%d", f.loops)
	f.loops++
	if offset != 0 {
		file = fmt.Sprintf("%s@%d", file, offset)
	}
	f.calls = append(f.calls, "loop "+file+" "+dev)
	return dev, nil
}

func (f *fakeSys) ResizeExt4(mountpoint string, blocks uint64) error {
	f.calls = append(f.calls, fmt.Sprintf("resize %s %d", mountpoint, blocks))
	return nil
}

func (f *fakeSys) ResizePartition(disk string, partno int, start, length int64) error {
	call := fmt.Sprintf("blkpg-resize %s %d %d %d", disk, partno, start, length)
	if f.failResize != nil {
		f.calls = append(f.calls, call+" FAILED")
		return f.failResize
	}
	f.calls = append(f.calls, call)
	size := f.Path(fmt.Sprintf("/sys/class/block/%s%d/size", filepath.Base(disk), partno))
	if _, err := os.Stat(size); err == nil {
		return os.WriteFile(size, fmt.Appendf(nil, "%d\n", length/512), 0o644)
	}
	return nil
}

func (f *fakeSys) InsertModule(path, params string) error {
	f.calls = append(f.calls, "insert "+filepath.Base(path))
	return nil
}

func (f *fakeSys) Release() (string, error) { return "6.1.0-test", nil }

func (f *fakeSys) Shell(ctx context.Context, root string) error {
	f.calls = append(f.calls, "shell "+root)
	return nil
}

func (f *fakeSys) SwitchRoot(newRoot, init string) error {
	f.calls = append(f.calls, "switch-root "+newRoot+" "+init)
	return nil
}

func (f *fakeSys) Reboot() error {
	f.calls = append(f.calls, "reboot")
	return nil
}

// machine builds a fake initramfs and root under a temporary directory.
type machine struct {
	t   *testing.T
	sys *fakeSys
}

func newMachine(t *testing.T, cmdline string) *machine {
	t.Helper()
	m := &machine{t: t, sys: &fakeSys{root: t.TempDir(), failMount: map[string]error{}}}
	m.file("/proc/cmdline", cmdline+"\n")
	m.file("/proc/uptime", "1.50 1.20\n")
	m.dir("/sys/class/block")
	m.dir("/sys/bus/pci/devices")
	m.file("/lib/modules/6.1.0-test/modules.dep", "kernel/fs/squashfs/squashfs.ko:\nkernel/fs/overlayfs/overlay.ko:\n")
	m.file("/lib/modules/6.1.0-test/modules.alias", "alias fs-squashfs squashfs\n")
	m.file("/etc/ros-initrd/modules", "squashfs\noverlay\n")
	// The root squashfs as seen once mounted: mount points and an init.
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "var", "etc", "usr/bin", "sbin", "bin"} {
		m.dir(NewRoot + "/" + d)
	}
	m.file(NewRoot+"/usr/bin/ros", "ELF")
	m.symlink("/usr/bin/ros", NewRoot+"/sbin/init")
	return m
}

func (m *machine) file(p, content string) {
	m.t.Helper()
	m.dir(filepath.Dir(p))
	if err := os.WriteFile(m.sys.Path(p), []byte(content), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

func (m *machine) dir(p string) {
	m.t.Helper()
	if err := os.MkdirAll(m.sys.Path(p), 0o755); err != nil {
		m.t.Fatal(err)
	}
}

func (m *machine) symlink(target, p string) {
	m.t.Helper()
	m.dir(filepath.Dir(p))
	if err := os.Symlink(target, m.sys.Path(p)); err != nil {
		m.t.Fatal(err)
	}
}

// blockDev adds /sys/class/block/name and /dev/name holding content.
func (m *machine) blockDev(name, devtype, partname string, sizeBytes int64, content []byte) {
	uevent := "MAJOR=254\nMINOR=0\nDEVNAME=" + name + "\nDEVTYPE=" + devtype + "\n"
	if partname != "" {
		uevent += "PARTN=1\nPARTNAME=" + partname + "\n"
	}
	m.file("/sys/class/block/"+name+"/uevent", uevent)
	m.file("/sys/class/block/"+name+"/size", fmt.Sprintf("%d\n", sizeBytes/512))
	m.file("/dev/"+name, string(content))
}

// partition adds partition number partno of disk as sysfs shows it: a
// directory inside the disk's, linked from /sys/class/block/name.
func (m *machine) partition(disk, name, partname string, partno int, sizeBytes int64, content []byte) {
	m.t.Helper()
	m.dir("/sys/class/block/" + disk + "/" + name)
	m.symlink(disk+"/"+name, "/sys/class/block/"+name)
	m.file("/sys/class/block/"+name+"/uevent", fmt.Sprintf("MAJOR=254\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=%d\nPARTNAME=%s\n", partno, name, partno, partname))
	m.file("/sys/class/block/"+name+"/partition", fmt.Sprintf("%d\n", partno))
	m.file("/sys/class/block/"+name+"/size", fmt.Sprintf("%d\n", sizeBytes/512))
	m.file("/dev/"+name, string(content))
}

// ext4Image returns the first 2 KiB of an ext4 filesystem.
func ext4Image(label string, blockSize int64, blocks uint64) []byte {
	b := make([]byte, 2048)
	sb := b[1024:]
	binary.LittleEndian.PutUint32(sb[0x04:], uint32(blocks))
	binary.LittleEndian.PutUint32(sb[0x18:], uint32(map[int64]int{1024: 0, 2048: 1, 4096: 2}[blockSize]))
	binary.LittleEndian.PutUint16(sb[0x38:], 0xEF53)
	binary.LittleEndian.PutUint32(sb[0x60:], 0x80|0x40|0x2) // 64bit, extents, filetype
	binary.LittleEndian.PutUint32(sb[0x150:], uint32(blocks>>32))
	copy(sb[0x78:], label)
	return b
}

func isoImage() []byte {
	b := make([]byte, 0x8800)
	copy(b[0x8001:], "CD001")
	b[510], b[511] = 0x55, 0xAA // hybrid: an MBR too
	return b
}

func (m *machine) run(cfg ...func(*State)) (*State, string, error) {
	var console bytes.Buffer
	s := &State{Sys: m.sys, Console: &console, Sleep: func(context.Context, time.Duration) error { return nil }}
	for _, c := range cfg {
		c(s)
	}
	err := Run(context.Background(), s, Phases())
	return s, console.String(), err
}

// squashfsImage returns the start of a squashfs (compression id comp) that
// says it is used bytes long, padded to used bytes.
func squashfsImage(comp uint16, used int) []byte {
	b := make([]byte, used)
	copy(b, "hsqs")
	binary.LittleEndian.PutUint32(b[12:], 128<<10)
	binary.LittleEndian.PutUint16(b[20:], comp)
	binary.LittleEndian.PutUint16(b[28:], 4)
	binary.LittleEndian.PutUint64(b[40:], uint64(used))
	return b
}

// singlePayload is a payload in one squashfs (xz).
func singlePayload() []byte { return squashfsImage(4, 4096) }

// splitPayload is a gzip boot part of 5000 bytes and a zstd root part at
// byte 8192.
func splitPayload() []byte {
	b := squashfsImage(1, 5000)
	b = append(b, make([]byte, 8192-len(b))...)
	return append(b, squashfsImage(6, 4096)...)
}
