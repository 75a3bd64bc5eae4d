package blockdev

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSys lays out a /sys/class/block and a /dev whose "devices" are image
// files: name to (size, image path or "" for none).
func fakeSys(t *testing.T, devs map[string][2]string) *Finder {
	t.Helper()
	root := t.TempDir()
	sys, dev := filepath.Join(root, "sys"), filepath.Join(root, "dev")
	for name, d := range devs {
		if err := os.MkdirAll(filepath.Join(sys, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, name, "size"), []byte(d[0]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if d[1] != "" {
			if err := os.MkdirAll(dev, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(d[1], filepath.Join(dev, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &Finder{SysBlock: sys, DevDir: dev}
}

func TestScan(t *testing.T) {
	iso := makeImage(t, "iso", "cidata", map[string]string{"user-data": "x"})
	ext := makeImage(t, "ext4", "config-2", nil)
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, make([]byte, 70000), 0o644); err != nil {
		t.Fatal(err)
	}
	f := fakeSys(t, map[string][2]string{
		"sr0":   {"2048", iso},
		"vda":   {"16384", ext},
		"vdb":   {"128", junk},
		"sr1":   {"0", iso}, // an empty drive: size 0, skipped
		"loop0": {"8", ""},  // no device node: skipped
	})
	devs, err := f.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range devs {
		got = append(got, filepath.Base(d.Path)+"="+d.FSType+":"+d.Label)
	}
	want := "sr0=iso9660:cidata vda=ext4:config-2"
	if strings.Join(got, " ") != want {
		t.Errorf("Scan() = %v, want %s", got, want)
	}
	if _, _, _, err := f.Find(context.Background(), "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Find(nope) error = %v, want fs.ErrNotExist", err)
	}
}

// kernelHas reports whether the running kernel can mount fstype now.
func kernelHas(fstype string) bool {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == fstype {
			return true
		}
	}
	return false
}

// TestFindMountsLoopDevice attaches images to loop devices, finds each by
// label through the real /sys and /dev, and reads a file from the mount.
func TestFindMountsLoopDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to attach a loop device and mount")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("needs losetup")
	}
	for _, tt := range []struct{ kind, fstype, label string }{
		{"fat12", VFAT, "ROSTEST"},
		{"iso", ISO9660, "rostest"},
		{"ext4", Ext4, "rostest"},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			if !kernelHas(tt.fstype) {
				t.Skipf("needs %s in /proc/filesystems (kernel module not loaded)", tt.fstype)
			}
			const body = "#cloud-config\nhostname: loop\n"
			img := makeImage(t, tt.kind, tt.label, map[string]string{"user-data": body})
			out, err := exec.Command("losetup", "--find", "--show", "--read-only", img).CombinedOutput()
			if err != nil {
				t.Skipf("losetup: %v: %s", err, out)
			}
			loop := strings.TrimSpace(string(out))
			t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })

			f := &Finder{MountBase: t.TempDir()}
			dir, device, release, err := f.Find(context.Background(), "RosTest")
			if err != nil {
				t.Fatalf("Find(RosTest) error = %v", err)
			}
			if device != loop {
				t.Errorf("Find(RosTest) device = %s, want %s", device, loop)
			}
			b, err := os.ReadFile(filepath.Join(dir, "user-data"))
			if rerr := release(); rerr != nil {
				t.Errorf("release() = %v", rerr)
			}
			if err != nil || string(b) != body {
				t.Errorf("user-data on the mount = %q, %v; want %q", b, err, body)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("mount directory %s still there after release: %v", dir, err)
			}
		})
	}
}
