package install

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Auto is the Device value that makes Install pick the disk itself
// (ros.install.device=auto on the kernel command line).
const Auto = "auto"

// Kinds of block devices that are never an install target.
var notDisks = []string{"loop", "ram", "zram", "sr", "fd", "dm-", "md", "nbd", "mtdblock", "mmcblk0boot", "mmcblk1boot"}

// AutoDevice returns the device ros.install.device=auto installs to: the
// first disk, in name order, that is blank (no partition table or
// filesystem), not removable, not read-only, not in use, and at least
// minSize bytes. The error lists every disk seen and why it was passed
// over.
func AutoDevice(minSize int64) (string, error) { return host.autoDevice(minSize) }

func (s system) autoDevice(minSize int64) (string, error) {
	entries, err := os.ReadDir(filepath.Join(s.Sys, "block"))
	if err != nil {
		return "", fmt.Errorf("list disks: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !hasAnyPrefix(e.Name(), notDisks) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var passed []string
	for _, name := range names {
		why := s.unsuitable(name, minSize)
		if why == "" {
			return filepath.Join(s.Dev, name), nil
		}
		passed = append(passed, name+" ("+why+")")
	}
	if len(passed) == 0 {
		return "", fmt.Errorf("%w: the machine has no disks", ErrNoDevice)
	}
	return "", fmt.Errorf("%w: no blank disk of at least %s: %s", ErrNoDevice, human(minSize), strings.Join(passed, ", "))
}

// unsuitable says why the disk name cannot be the automatic target, or ""
// when it can.
func (s system) unsuitable(name string, minSize int64) string {
	dir := filepath.Join(s.Sys, "block", name)
	read := func(file string) string {
		b, _ := os.ReadFile(filepath.Join(dir, file))
		return strings.TrimSpace(string(b))
	}
	if read("removable") == "1" {
		return "removable"
	}
	if read("ro") == "1" {
		return "read-only"
	}
	sectors, err := strconv.ParseInt(read("size"), 10, 64)
	if err != nil {
		return "size unknown"
	}
	if size := sectors * 512; size < minSize {
		return human(size) + ", too small"
	}
	num := read("dev")
	if why, err := s.users([]string{num}); err != nil {
		return err.Error()
	} else if len(why) > 0 {
		return why[0]
	}
	f, err := os.Open(filepath.Join(s.Dev, name))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	what, err := probe(f, sectors*512)
	if err != nil {
		return err.Error()
	}
	if what != "" {
		return "holds " + what
	}
	return ""
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
