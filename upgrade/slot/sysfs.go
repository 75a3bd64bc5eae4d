package slot

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// blockDev is one entry of /sys/class/block.
type blockDev struct {
	name    string // sda4
	devName string // DEVNAME: the node under /dev
	devType string // disk or partition
	partNum int    // PARTN
	label   string // PARTNAME (GPT partition name)
	major   int
	minor   int
	parent  string // the disk of a partition
	start   int64  // bytes (partitions)
	size    int64  // bytes
}

// readUevent parses a sysfs uevent file (KEY=value lines).
func readUevent(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m, sc.Err()
}

// readSectors reads a sysfs file holding a count of 512-byte sectors
// (size, start: always 512-byte units, whatever the logical block size).
func readSectors(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n * 512, nil
}

// scanBlock reads every entry of sysRoot/class/block.
func scanBlock(sysRoot string) ([]blockDev, error) {
	dir := filepath.Join(sysRoot, "class", "block")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("scan block devices: %w", err)
	}
	var devs []blockDev
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		ev, err := readUevent(filepath.Join(p, "uevent"))
		if err != nil {
			continue // gone, or not a device
		}
		d := blockDev{name: e.Name(), devName: ev["DEVNAME"], devType: ev["DEVTYPE"], label: ev["PARTNAME"]}
		if d.devName == "" {
			d.devName = d.name
		}
		d.major, _ = strconv.Atoi(ev["MAJOR"])
		d.minor, _ = strconv.Atoi(ev["MINOR"])
		d.partNum, _ = strconv.Atoi(ev["PARTN"])
		if d.size, err = readSectors(filepath.Join(p, "size")); err != nil {
			continue
		}
		if d.devType == "partition" {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				continue
			}
			d.parent = filepath.Base(filepath.Dir(real))
			if d.start, err = readSectors(filepath.Join(p, "start")); err != nil {
				continue
			}
		}
		devs = append(devs, d)
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].name < devs[j].name })
	return devs, nil
}
