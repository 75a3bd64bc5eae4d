package install

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// system names the roots of the kernel's interfaces; tests point them at
// fake trees.
type system struct {
	Sys, Proc, Dev string
}

var host = system{Sys: "/sys", Proc: "/proc", Dev: "/dev"}

// blockDev is a block device the kernel knows: its name in /sys/class/block
// and its number "major:minor".
type blockDev struct {
	Name, Num string
}

// family returns the disk numbered num and its partitions.
func (s system) family(num string) ([]blockDev, error) {
	dir, err := filepath.EvalSymlinks(filepath.Join(s.Sys, "dev/block", num))
	if err != nil {
		return nil, fmt.Errorf("sysfs entry of block device %s: %w", num, err)
	}
	devs := []blockDev{{Name: filepath.Base(dir), Num: num}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "partition")); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "dev"))
		if err != nil {
			continue
		}
		devs = append(devs, blockDev{Name: e.Name(), Num: strings.TrimSpace(string(b))})
	}
	return devs, nil
}

// loopsOf returns the numbers of the loop devices backed by the file path.
func (s system) loopsOf(path string) ([]string, error) {
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	if want, err = filepath.Abs(want); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(s.Sys, "block/loop*/loop/backing_file"))
	var nums []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)") != want {
			continue
		}
		dev, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(f)), "dev"))
		if err == nil {
			nums = append(nums, strings.TrimSpace(string(dev)))
		}
	}
	return nums, nil
}

// users says who uses the disks numbered nums or their partitions:
// mounts, swap areas and stacked devices (device-mapper, md).
func (s system) users(nums []string) ([]string, error) {
	var devs []blockDev
	for _, n := range nums {
		fam, err := s.family(n)
		if err != nil {
			return nil, err
		}
		devs = append(devs, fam...)
	}
	byNum := map[string]string{}
	for _, d := range devs {
		byNum[d.Num] = d.Name
	}
	var why []string
	mounts, err := s.mounts()
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		if name, ok := byNum[m.num]; ok {
			why = append(why, fmt.Sprintf("%s is mounted on %s", name, m.point))
		}
	}
	for _, sw := range s.swaps() {
		if name, ok := byNum[sw]; ok {
			why = append(why, fmt.Sprintf("%s is a swap area in use", name))
		}
	}
	for _, d := range devs {
		dir, err := filepath.EvalSymlinks(filepath.Join(s.Sys, "dev/block", d.Num))
		if err != nil {
			continue
		}
		holders, _ := os.ReadDir(filepath.Join(dir, "holders"))
		for _, h := range holders {
			why = append(why, fmt.Sprintf("%s is used by %s", d.Name, h.Name()))
		}
	}
	sort.Strings(why)
	return why, nil
}

type mount struct{ num, point string }

// mounts reads /proc/self/mountinfo.
func (s system) mounts() ([]mount, error) {
	f, err := os.Open(filepath.Join(s.Proc, "self/mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var ms []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		ms = append(ms, mount{num: fields[2], point: unescape(fields[4])})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	return ms, nil
}

// swaps returns the numbers of the block devices in /proc/swaps.
func (s system) swaps() []string {
	b, err := os.ReadFile(filepath.Join(s.Proc, "swaps"))
	if err != nil {
		return nil
	}
	var nums []string
	for i, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if i == 0 || len(fields) == 0 {
			continue
		}
		if num, err := devNumber(unescape(fields[0])); err == nil {
			nums = append(nums, num)
		}
	}
	return nums
}

// unescape undoes the octal escapes (\040 for a space) of /proc files.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
