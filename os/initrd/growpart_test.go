package initrd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/ros-os/ros/pkg/growpart"
)

// rosDisk puts at /dev/vda a GPT disk image laid out as ros writes it, with
// 8 MiB partitions (state from 26 MiB to 34 MiB of a 35 MiB image), then
// makes the disk grow MiB larger, and adds the partitions: slot A holding a
// squashfs, the state an 8 MiB ext4.
func rosDisk(m *machine, grow int64) {
	m.t.Helper()
	const size = 35 << 20
	tmp := filepath.Join(m.t.TempDir(), "disk.img")
	d, err := diskfs.Create(tmp, size, diskfs.SectorSizeDefault)
	if err != nil {
		m.t.Fatal(err)
	}
	tab := &gpt.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, ProtectiveMBR: true}
	start := uint64(2048)
	for i, name := range []string{"BIOS boot", "ROS_EFI", "ROS_A", "ROS_B", "ROS_STATE"} {
		n := uint64(16384)
		if i == 0 {
			n = 2048
		}
		tab.Partitions = append(tab.Partitions, &gpt.Partition{Index: i + 1, Start: start, End: start + n - 1, Size: n * 512, Type: gpt.LinuxFilesystem, Name: name})
		start += n
	}
	if err := d.Partition(tab); err != nil {
		m.t.Fatal(err)
	}
	d.Close()
	if err := os.Truncate(tmp, size+grow<<20); err != nil {
		m.t.Fatal(err)
	}
	m.blockDev("vda", "disk", "", size+grow<<20, nil)
	if err := os.Rename(tmp, m.sys.Path("/dev/vda")); err != nil {
		m.t.Fatal(err)
	}
	m.partition("vda", "vda3", "ROS_A", 3, 8<<20, singlePayload())
	m.partition("vda", "vda5", "ROS_STATE", 5, 8<<20, ext4Image("ROS_STATE", 4096, 2048))
}

func TestBootGrowsStatePartition(t *testing.T) {
	const (
		start   = "27262976" // 26 MiB
		grownTo = "75497472" // 72 MiB: to 98 MiB of the 99 MiB disk
		blkpg   = "blkpg-resize /dev/vda 5 " + start + " " + grownTo
		mount   = "mount ext4 /dev/vda5 /newroot/var " + nosuidNodev
	)
	tests := []struct {
		name        string
		grow        int64 // MiB added to the disk
		setup       func(m *machine)
		wantCalls   []string
		wantConsole []string
		wantGrown   bool // the GPT on the disk
	}{
		{"grown", 64, nil, []string{blkpg, mount, "resize /newroot/var 18432"},
			[]string{"state: grew partition ROS_STATE from 8 MiB to 72 MiB", "state: grew /dev/vda5 from 8 MiB to 72 MiB"}, true},
		{"disk not larger", 0, nil, []string{mount}, nil, false},
		{"corrupt GPT", 64, func(m *machine) {
			f, err := os.OpenFile(m.sys.Path("/dev/vda"), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte{0xFF}, 512+48); err != nil { // last usable LBA, behind the CRC's back
				t.Fatal(err)
			}
		}, []string{mount}, []string{"warning: not growing partition ROS_STATE: /dev/vda: grow GPT: primary: GPT header at LBA 1: CRC"}, false},
		{"BLKPG fails", 64, func(m *machine) { m.sys.failResize = syscall.EBUSY }, []string{blkpg + " FAILED", mount},
			[]string{"warning: partition ROS_STATE grown on disk, but the kernel keeps its old size until a reboot: device or resource busy"}, true},
		{"partition number mismatch", 64, func(m *machine) { m.file("/sys/class/block/vda5/partition", "4\n") }, []string{mount},
			[]string{"warning: GPT entry 5 of /dev/vda is ROS_STATE, the kernel numbers it 4"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(t, "ros.slot=A")
			rosDisk(m, tt.grow)
			if tt.setup != nil {
				tt.setup(m)
			}
			s, console, err := m.run()
			if err != nil {
				t.Fatalf("Run() = %v\n%s", err, console)
			}
			want := concat(head, []string{"mount squashfs /dev/vda3 /newroot " + rdonly}, tmpfsMounts, tt.wantCalls, tail)
			if !reflect.DeepEqual(m.sys.calls, want) {
				t.Errorf("Run() calls =\n%s\nwant\n%s", strings.Join(m.sys.calls, "\n"), strings.Join(want, "\n"))
			}
			if s.Var != "/dev/vda5" {
				t.Errorf("Run(): /var = %q, want /dev/vda5", s.Var)
			}
			for _, line := range tt.wantConsole {
				if !strings.Contains(console, line) {
					t.Errorf("Run(): console lacks %q:\n%s", line, console)
				}
			}
			if len(tt.wantConsole) == 0 && strings.Contains(console, "warning") {
				t.Errorf("Run(): console has a warning:\n%s", console)
			}
			f, err := os.Open(m.sys.Path("/dev/vda"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := growpart.Check(f, growpart.Options{Size: (35 + tt.grow) << 20})
			if tt.name == "corrupt GPT" {
				return
			}
			if err != nil || r.Changed() || (r.NewEnd == 200703) != tt.wantGrown {
				t.Errorf("growpart.Check(disk after boot) = %+v, %v, want unchanged, grown to LBA 200703: %v", r, err, tt.wantGrown)
			}
		})
	}
}
