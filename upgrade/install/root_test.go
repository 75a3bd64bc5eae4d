package install

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/disk"
)

// needRoot skips unless the test may attach loop devices and mount.
func needRoot(t *testing.T) {
	t.Helper()
	if !canMount() {
		t.Skip("needs root (loop devices, mount)")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("needs /dev/loop-control")
	}
}

// loopOf attaches a loop device to the whole file and returns its path.
func loopOf(t *testing.T, file string) string {
	t.Helper()
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	loop, err := attachLoop(f, 0, fi.Size())
	if err != nil {
		t.Skipf("cannot attach a loop device here: %v", err)
	}
	t.Cleanup(func() {
		if err := detachLoop(loop); err != nil {
			t.Error(err)
		}
	})
	return loop.Name()
}

// mountAt mounts dev (ext4) on a temporary directory until the test ends.
func mountAt(t *testing.T, dev string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount(dev, dir, "ext4", 0, ""); err != nil {
		t.Skipf("cannot mount ext4 here: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestInstallCloudConfig saves a cloud-config on ROS_STATE and reads it back
// with debugfs.
func TestInstallCloudConfig(t *testing.T) {
	needRoot(t)
	kit := testKit(t)
	pay := fakePayload(t, "console=ttyS0", "v1", nil)
	img := image(t, 300*MiB)
	cc := []byte("#cloud-config\nhostname: installed\n")
	progress, msgs := progressLog(t)
	if err := Install(context.Background(), Options{Device: img, Kit: kit, Payload: pay, SlotSize: 16 * MiB, CloudConfig: cc, Progress: progress}); err != nil {
		t.Fatalf("Install() = %v", err)
	}
	if !strings.Contains(strings.Join(*msgs, "\n"), "saving the cloud-config as /var/lib/ros/install/cloud-config.yml") {
		t.Errorf("progress does not mention the cloud-config")
	}
	l, err := disk.ReadLayout(img)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := l.State()
	state := extract(t, img, st.Start, disk.DefaultKitStateSize)
	tool(t, "e2fsck", "-fn", state)
	if got := tool(t, "debugfs", "-R", "cat /"+CloudConfigFile, state); !strings.Contains(got, string(cc)) {
		t.Errorf("debugfs cat %s = %q, want %q", CloudConfigFile, got, cc)
	}
	stat := tool(t, "debugfs", "-R", "stat /"+CloudConfigFile, state)
	if !strings.Contains(stat, "Mode:  0600") || !strings.Contains(stat, "User:     0") {
		t.Errorf("debugfs stat %s: want mode 0600 owned by root:\n%s", CloudConfigFile, stat)
	}
	if stat := tool(t, "debugfs", "-R", "stat /lib/ros/install", state); !strings.Contains(stat, "Mode:  0700") {
		t.Errorf("debugfs stat /lib/ros/install: want mode 0700:\n%s", stat)
	}
}

// TestInstallBlockDevice installs to a loop device: the block device path
// (exclusive open, BLKGETSIZE64, BLKFLSBUF, BLKRRPART).
func TestInstallBlockDevice(t *testing.T) {
	needRoot(t)
	kit := testKit(t)
	pay := fakePayload(t, "console=ttyS0", "v1", nil)
	img := image(t, 300*MiB)
	dev := loopOf(t, img)
	progress, _ := progressLog(t)
	if err := Install(context.Background(), Options{Device: dev, Kit: kit, Payload: pay, SlotSize: 16 * MiB, CloudConfig: []byte("#cloud-config\n"), Progress: progress}); err != nil {
		t.Fatalf("Install(%s) = %v", dev, err)
	}
	out := tool(t, "sgdisk", "-p", img)
	for _, want := range []string{"BIOS boot", "ROS_EFI", "ROS_A", "ROS_B", "ROS_STATE"} {
		if !strings.Contains(out, want) {
			t.Errorf("sgdisk -p after installing to %s lacks %s:\n%s", dev, want, out)
		}
	}
	env, err := disk.ReadEnv(img)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := env.Get("ros_version_A"); v != "v1" {
		t.Errorf("ros_version_A = %q, want v1", v)
	}
}

// TestInstallRefusesMounted refuses a mounted device and an image file
// whose loop device is mounted, without writing.
func TestInstallRefusesMounted(t *testing.T) {
	needRoot(t)
	kit := testKit(t)
	pay := fakePayload(t, "console=ttyS0", "v1", nil)
	img := image(t, 300*MiB)
	tool(t, "mkfs.ext4", "-q", "-F", img)
	dev := loopOf(t, img)
	point := mountAt(t, dev)
	before := hashFile(t, img)
	for _, target := range []string{dev, img} {
		err := Install(context.Background(), Options{Device: target, Kit: kit, Payload: pay, SlotSize: 16 * MiB, Force: true})
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "is mounted on "+point) {
			t.Errorf("Install(%s, mounted on %s) = %v, want ErrInUse naming the mount point", target, point, err)
		}
	}
	if hashFile(t, img) != before {
		t.Errorf("a refused install changed the disk")
	}
}
