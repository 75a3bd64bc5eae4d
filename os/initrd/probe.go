package initrd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// blockDev is one entry of /sys/class/block.
type blockDev struct {
	Name     string // vda1
	Dev      string // /dev/vda1
	Type     string // "disk" or "partition"
	PartName string // GPT partition name, "" if none
}

// listBlockDevs reads /sys/class/block/*/uevent, sorted by name. Loop, ram
// and zram devices are left out: a root is never found on them.
func listBlockDevs(sys System) ([]blockDev, error) {
	entries, err := os.ReadDir(sys.Path("/sys/class/block"))
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	var out []blockDev
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "loop") || strings.HasPrefix(n, "ram") || strings.HasPrefix(n, "zram") {
			continue
		}
		data, err := os.ReadFile(sys.Path(path.Join("/sys/class/block", n, "uevent")))
		if err != nil {
			continue // went away
		}
		d := blockDev{Name: n, Dev: "/dev/" + n, Type: "disk"}
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch k {
			case "DEVNAME":
				d.Dev = "/dev/" + v
			case "DEVTYPE":
				d.Type = v
			case "PARTNAME":
				d.PartName = v
			}
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// devSize returns a block device's size in bytes from sysfs.
func devSize(sys System, d blockDev) (uint64, error) {
	data, err := os.ReadFile(sys.Path(path.Join("/sys/class/block", d.Name, "size")))
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", d.Dev, err)
	}
	sectors, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", d.Dev, err)
	}
	return sectors * 512, nil
}

func readAt(sys System, dev string, off int64, n int) ([]byte, error) {
	f, err := os.Open(sys.Path(dev))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}

// ext4Super holds the superblock fields stage 1 needs.
type ext4Super struct {
	Label     string
	BlockSize uint64
	Blocks    uint64
}

// readExt4 reads an ext2/3/4 superblock (1024 bytes at offset 1024); ok is
// false when dev holds none.
func readExt4(sys System, dev string) (ext4Super, bool) {
	sb, err := readAt(sys, dev, 1024, 1024)
	if err != nil || binary.LittleEndian.Uint16(sb[0x38:]) != 0xEF53 {
		return ext4Super{}, false
	}
	logBlock := binary.LittleEndian.Uint32(sb[0x18:])
	if logBlock > 6 {
		return ext4Super{}, false
	}
	s := ext4Super{
		Label:     string(bytes.TrimRight(sb[0x78:0x88], "\x00")),
		BlockSize: 1024 << logBlock,
		Blocks:    uint64(binary.LittleEndian.Uint32(sb[0x04:])),
	}
	const incompat64bit = 0x80
	if binary.LittleEndian.Uint32(sb[0x60:])&incompat64bit != 0 {
		s.Blocks |= uint64(binary.LittleEndian.Uint32(sb[0x150:])) << 32
	}
	return s, true
}

// fsType names the filesystem on dev from its magic numbers, or "".
func fsType(sys System, dev string) string {
	head, err := readAt(sys, dev, 0, 4096)
	if err != nil {
		return ""
	}
	if bytes.HasPrefix(head, []byte("hsqs")) {
		return "squashfs"
	}
	// ISO9660 before FAT: a hybrid ISO on a USB stick also has an MBR.
	if iso, err := readAt(sys, dev, 0x8001, 5); err == nil && string(iso) == "CD001" {
		return "iso9660"
	}
	if _, ok := readExt4(sys, dev); ok {
		return "ext4"
	}
	if head[510] == 0x55 && head[511] == 0xAA && (bytes.HasPrefix(head[0x36:], []byte("FAT")) || bytes.HasPrefix(head[0x52:], []byte("FAT32"))) {
		return "vfat"
	}
	return ""
}
