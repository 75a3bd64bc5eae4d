package install

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeSystem is a sysfs, procfs and /dev tree in a temporary directory.
type fakeSystem struct {
	t    *testing.T
	root string
	system
}

func newFakeSystem(t *testing.T) *fakeSystem {
	root := t.TempDir()
	s := &fakeSystem{t: t, root: root, system: system{Sys: filepath.Join(root, "sys"), Proc: filepath.Join(root, "proc"), Dev: filepath.Join(root, "dev")}}
	for _, d := range []string{"sys/dev/block", "sys/block", "sys/devices/virtual/block", "proc/self", "dev"} {
		s.mkdir(d)
	}
	s.write("proc/self/mountinfo", "22 1 0:21 / / rw - tmpfs tmpfs rw\n")
	s.write("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
	return s
}

func (s *fakeSystem) mkdir(p string) {
	if err := os.MkdirAll(filepath.Join(s.root, p), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

func (s *fakeSystem) write(p, data string) {
	s.mkdir(filepath.Dir(p))
	if err := os.WriteFile(filepath.Join(s.root, p), []byte(data), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// disk adds a disk with attrs (file name -> contents) and partitions
// (name -> "maj:min"), as sysfs shows it, and a /dev node stand-in holding
// contents.
func (s *fakeSystem) disk(name, num string, attrs map[string]string, parts map[string]string, contents []byte) {
	dir := "sys/devices/pci0000:00/virtio/block/" + name
	s.write(dir+"/dev", num+"\n")
	for k, v := range attrs {
		s.write(dir+"/"+k, v+"\n")
	}
	s.mkdir(dir + "/holders")
	for p, pnum := range parts {
		s.write(dir+"/"+p+"/partition", "1\n")
		s.write(dir+"/"+p+"/dev", pnum+"\n")
		s.mkdir(dir + "/" + p + "/holders")
		s.link("sys/dev/block/"+pnum, dir+"/"+p)
	}
	s.link("sys/dev/block/"+num, dir)
	s.link("sys/block/"+name, dir)
	s.write("dev/"+name, string(contents))
}

func (s *fakeSystem) link(at, target string) {
	s.mkdir(filepath.Dir(at))
	if err := os.Symlink(filepath.Join(s.root, target), filepath.Join(s.root, at)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *fakeSystem) mount(num, point string) {
	b, _ := os.ReadFile(filepath.Join(s.Proc, "self/mountinfo"))
	s.write("proc/self/mountinfo", string(b)+"30 22 "+num+" / "+point+" rw,relatime - ext4 /dev/x rw\n")
}

func TestUsers(t *testing.T) {
	s := newFakeSystem(t)
	s.disk("vda", "254:0", nil, map[string]string{"vda1": "254:1", "vda2": "254:2"}, nil)
	s.disk("vdb", "254:16", nil, nil, nil)
	s.mount("254:2", `/run/ros/with\040space`)
	s.write("sys/devices/pci0000:00/virtio/block/vdb/holders/dm-0", "")

	tests := []struct {
		num  string
		want []string
	}{
		{"254:0", []string{"vda2 is mounted on /run/ros/with space"}},
		{"254:16", []string{"vdb is used by dm-0"}},
	}
	for _, tt := range tests {
		got, err := s.users([]string{tt.num})
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("users(%s) = %q, %v; want %q", tt.num, got, err, tt.want)
		}
	}
	fam, err := s.family("254:0")
	if err != nil || len(fam) != 3 {
		t.Errorf("family(254:0) = %v, %v; want vda, vda1, vda2", fam, err)
	}
	if _, err := s.users([]string{"7:99"}); err == nil {
		t.Errorf("users(unknown device) = nil error")
	}
}

func TestLoopsOf(t *testing.T) {
	s := newFakeSystem(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s.disk("loop3", "7:3", map[string]string{"loop/backing_file": img}, nil, nil)
	s.disk("loop4", "7:4", map[string]string{"loop/backing_file": img + ".other"}, nil, nil)
	got, err := s.loopsOf(img)
	if err != nil || !reflect.DeepEqual(got, []string{"7:3"}) {
		t.Errorf("loopsOf(%s) = %v, %v; want [7:3]", img, got, err)
	}
	s.mount("7:3", "/mnt")
	why, _ := s.users(got)
	if len(why) != 1 || why[0] != "loop3 is mounted on /mnt" {
		t.Errorf("users(loop3) = %q, want it mounted on /mnt", why)
	}
}

func TestProbe(t *testing.T) {
	at := func(off int, b []byte) []byte {
		d := make([]byte, 128<<10)
		copy(d[off:], b)
		return d
	}
	mbr := make([]byte, 512)
	mbr[446+4], mbr[446+12], mbr[510], mbr[511] = 0x83, 8, 0x55, 0xaa
	bootSector := make([]byte, 512)
	bootSector[510], bootSector[511] = 0x55, 0xaa
	backup := make([]byte, 128<<10)
	copy(backup[len(backup)-512:], "EFI PART")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"blank", make([]byte, 128<<10), ""},
		{"gpt", at(512, []byte("EFI PART")), "a GPT partition table"},
		{"mbr", at(0, mbr), "an MBR partition table"},
		{"boot sector", at(0, bootSector), "a boot sector"},
		{"ext4", at(1080, []byte{0x53, 0xef}), "an ext2/3/4 filesystem"},
		{"iso", at(32769, []byte("CD001")), "an ISO 9660 filesystem"},
		{"squashfs", at(0, []byte("hsqs")), "a squashfs filesystem"},
		{"backup gpt", backup, "a backup GPT partition table"},
		{"short", []byte("hsq"), ""},
	}
	for _, tt := range tests {
		got, err := probe(bytes.NewReader(tt.data), int64(len(tt.data)))
		if err != nil || got != tt.want {
			t.Errorf("probe(%s) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestAutoDevice(t *testing.T) {
	iso := make([]byte, 40<<10)
	copy(iso[32769:], "CD001")
	s := newFakeSystem(t)
	s.disk("sda", "8:0", map[string]string{"size": "4194304", "removable": "1"}, nil, nil)
	s.disk("sr0", "11:0", map[string]string{"size": "4194304"}, nil, nil)
	s.disk("vda", "254:0", map[string]string{"size": "4194304"}, nil, iso)
	s.disk("vdb", "254:16", map[string]string{"size": "2048"}, nil, nil)
	s.disk("vdc", "254:32", map[string]string{"size": "4194304"}, map[string]string{"vdc1": "254:33"}, nil)
	s.mount("254:33", "/run/ros/media")
	s.disk("vdd", "254:48", map[string]string{"size": "4194304", "ro": "1"}, nil, nil)

	_, err := s.autoDevice(1 << 30)
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("autoDevice() = %v, want ErrNoDevice", err)
	}
	for _, want := range []string{"sda (removable)", "vda (holds an ISO 9660 filesystem)", "vdb (1 MiB, too small)", "vdc (vdc1 is mounted on /run/ros/media)", "vdd (read-only)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("autoDevice() error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "sr0") {
		t.Errorf("autoDevice() considered the CD drive: %v", err)
	}

	s.disk("vde", "254:64", map[string]string{"size": "4194304"}, nil, nil)
	s.disk("vdf", "254:80", map[string]string{"size": "4194304"}, nil, nil)
	got, err := s.autoDevice(1 << 30)
	if want := filepath.Join(s.Dev, "vde"); err != nil || got != want {
		t.Errorf("autoDevice() = %q, %v; want %q", got, err, want)
	}
}

// TestInstallAuto installs with Device "auto" on a fake machine whose first
// disk holds a filesystem and whose second is blank.
func TestInstallAuto(t *testing.T) {
	kit := testKit(t)
	pay := fakePayload(t, "console=ttyS0", "v1", nil)
	const size = 300 * MiB
	iso := make([]byte, 40<<10)
	copy(iso[32769:], "CD001")
	s := newFakeSystem(t)
	s.disk("vda", "254:0", map[string]string{"size": "614400"}, nil, iso)
	s.disk("vdb", "254:16", map[string]string{"size": "614400"}, nil, nil)
	if err := os.Truncate(filepath.Join(s.Dev, "vda"), size); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(s.Dev, "vdb"), size); err != nil {
		t.Fatal(err)
	}
	progress, msgs := progressLog(t)
	err := install(context.Background(), s.system, Options{Device: Auto, Kit: kit, Payload: pay, SlotSize: 16 * MiB, Progress: progress})
	if err != nil {
		t.Fatalf("install(auto) = %v", err)
	}
	if want := "ros.install.device=auto: chose " + filepath.Join(s.Dev, "vdb"); !strings.Contains(strings.Join(*msgs, "\n"), want) {
		t.Errorf("progress lacks %q", want)
	}
	if out := tool(t, "sgdisk", "-p", filepath.Join(s.Dev, "vdb")); !strings.Contains(out, "ROS_STATE") {
		t.Errorf("auto install did not write vdb:\n%s", out)
	}
	if err := install(context.Background(), s.system, Options{Kit: kit, Payload: pay}); err == nil || !strings.Contains(err.Error(), "no device given") {
		t.Errorf("install(no device) = %v, want it to ask for one", err)
	}
}
