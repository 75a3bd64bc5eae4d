package slot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ros-os/ros/pkg/disk"
)

// fakePart is one partition of a fake sysfs disk.
type fakePart struct {
	label       string
	start, size int64 // sectors
}

// fakeSys builds sysRoot/devices/.../block/<disk>/<part> with uevent,
// start and size files, the class/block symlinks, and devRoot nodes as
// plain files, the way the kernel lays out sysfs.
func fakeSys(t *testing.T, sys, dev string, name string, major int, sectors int64, parts []fakePart) {
	t.Helper()
	pname := func(i int) string {
		if c := name[len(name)-1]; c >= '0' && c <= '9' {
			return fmt.Sprintf("%sp%d", name, i)
		}
		return fmt.Sprintf("%s%d", name, i)
	}
	diskDir := filepath.Join(sys, "devices", "pci0000:00", "virtio"+name, "block", name)
	write := func(dir, file, data string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, name string) {
		if err := os.MkdirAll(filepath.Join(sys, "class", "block"), 0o755); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(filepath.Join(sys, "class", "block"), target)
		if err := os.Symlink(rel, filepath.Join(sys, "class", "block", name)); err != nil {
			t.Fatal(err)
		}
	}
	write(diskDir, "uevent", fmt.Sprintf("MAJOR=%d\nMINOR=0\nDEVNAME=%s\nDEVTYPE=disk\nDISKSEQ=9\n", major, name))
	write(diskDir, "size", fmt.Sprintf("%d\n", sectors))
	link(diskDir, name)
	write(dev, name, "")
	for i, p := range parts {
		pn := pname(i + 1)
		pd := filepath.Join(diskDir, pn)
		ev := fmt.Sprintf("MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nDISKSEQ=9\nPARTN=%d\n", major, i+1, pn, i+1)
		if p.label != "" {
			ev += "PARTNAME=" + p.label + "\n"
		}
		write(pd, "uevent", ev)
		write(pd, "start", fmt.Sprintf("%d\n", p.start))
		write(pd, "size", fmt.Sprintf("%d\n", p.size))
		write(pd, "partition", fmt.Sprintf("%d\n", i+1))
		link(pd, pn)
		write(dev, pn, "")
	}
}

var rosParts = []fakePart{
	{disk.LabelBIOS, 2048, 2048},
	{disk.LabelEFI, 4096, 131072},
	{disk.LabelA, 135168, 1048576},
	{disk.LabelB, 1183744, 1048576},
	{disk.LabelState, 2232320, 524288},
}

func TestFindBoot(t *testing.T) {
	root := t.TempDir()
	sys, dev := filepath.Join(root, "sys"), filepath.Join(root, "dev")
	fakeSys(t, sys, dev, "vda", 254, 4194304, rosParts)
	fakeSys(t, sys, dev, "sdb", 8, 2097152, []fakePart{{"data", 2048, 1048576}, {disk.LabelA, 1050624, 8192}})

	d, err := FindBoot(sys, dev)
	if err != nil {
		t.Fatalf("FindBoot() = %v", err)
	}
	if d.Path != filepath.Join(dev, "vda") || d.IsImage() || d.Layout.Size != 4194304*512 {
		t.Errorf("FindBoot() = %s (image %v, size %d), want %s/vda", d.Path, d.IsImage(), d.Layout.Size, dev)
	}
	if len(d.Layout.Partitions) != 5 {
		t.Fatalf("layout has %d partitions, want 5: %+v", len(d.Layout.Partitions), d.Layout.Partitions)
	}
	b, err := d.Layout.Slot("B")
	if err != nil || b.Number != 4 || b.Start != 1183744*512 || b.Size != 512*disk.MiB {
		t.Errorf("Layout.Slot(B) = %+v, %v; want partition 4 at %d, 512 MiB", b, err, 1183744*512)
	}
	if p := d.Parts[disk.LabelB]; p.Dev != filepath.Join(dev, "vda4") || p.Major != 254 || p.Minor != 4 {
		t.Errorf("Parts[ROS_B] = %+v, want %s/vda4 254:4", p, dev)
	}
	if !d.Holds(254, 3) || d.Holds(8, 2) {
		t.Errorf("Holds(254:3) = %v, Holds(8:2) = %v; want true, false", d.Holds(254, 3), d.Holds(8, 2))
	}
	s, err := d.Open("B")
	if err != nil {
		t.Fatalf("Open(B) = %v", err)
	}
	if s.Path != filepath.Join(dev, "vda4") || s.Offset != 0 || s.Size() != 512*disk.MiB {
		t.Errorf("Open(B) = %+v, want %s/vda4 offset 0 size 512 MiB", s, dev)
	}
	if d.ESP != filepath.Join(dev, "vda2") {
		t.Errorf("ESP = %q, want %s/vda2", d.ESP, dev)
	}
	if _, err := d.Open("C"); err == nil {
		t.Errorf("Open(C) = nil error")
	}

	// A second ros disk (nvme naming) makes it ambiguous.
	fakeSys(t, sys, dev, "nvme0n1", 259, 4194304, rosParts)
	if _, err := FindBoot(sys, dev); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("FindBoot(two ros disks) = %v, want ErrAmbiguous", err)
	}
	all, err := FindAll(sys, dev)
	if err != nil || len(all) != 2 || all[0].Parts[disk.LabelA].Dev != filepath.Join(dev, "nvme0n1p3") {
		t.Errorf("FindAll() = %v, %v; want nvme0n1 (with p3 for ROS_A) and vda", all, err)
	}

	empty := t.TempDir()
	fakeSys(t, filepath.Join(empty, "sys"), filepath.Join(empty, "dev"), "sda", 8, 2097152, []fakePart{{"data", 2048, 8192}})
	if _, err := FindBoot(filepath.Join(empty, "sys"), filepath.Join(empty, "dev")); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindBoot(no ros disk) = %v, want ErrNotFound", err)
	}
	if _, err := FindBoot(filepath.Join(empty, "nothing"), ""); err == nil {
		t.Errorf("FindBoot(missing sysfs) = nil error")
	}
}

func TestBooted(t *testing.T) {
	for _, tt := range []struct{ cmdline, want string }{
		{"ros.slot=A console=ttyS0", "A"},
		{"BOOT_IMAGE=x ros.slot=B quiet\n", "B"},
		{"ros.live console=ttyS0", ""},
		{"ros.slot=C", ""},
		{"xros.slot=A", ""},
	} {
		if got := Booted(tt.cmdline); got != tt.want {
			t.Errorf("Booted(%q) = %q, want %q", tt.cmdline, got, tt.want)
		}
	}
}
