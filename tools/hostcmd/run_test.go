package hostcmd

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ros-os/ros/pkg/qemu"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512M", 512 << 20, true}, {"4G", 4 << 30, true}, {"4g", 4 << 30, true},
		{"1000", 1000, true}, {"0", 0, false}, {"G", 0, false}, {"x4G", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestRunConfig(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "ros")
	if err := os.WriteFile(base+"-cmdline", []byte("console=ttyS0 panic=5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var cfg qemu.Config
	if err := runConfig(&cfg, base+"-kernel", true, "2G", []string{"2222:22"}); err != nil {
		t.Fatal(err)
	}
	want := qemu.Config{
		Name: "ros", Firmware: qemu.UEFI,
		Kernel: base + "-kernel", Initrd: base + "-initrd.img", Cmdline: "console=ttyS0 panic=5",
		Disks:    []qemu.Disk{{Size: 2 << 30}},
		Forwards: []qemu.Forward{{Host: 2222, Guest: 22}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("runConfig = %+v, want %+v", cfg, want)
	}
	if err := runConfig(&qemu.Config{}, "x.iso", false, "", []string{"22"}); err == nil {
		t.Error("runConfig with port \"22\" = nil error, want one")
	}
}
