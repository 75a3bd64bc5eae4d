package initrd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/initramfs"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/testkernel"
)

// TestQEMUGrowPartition boots the disk of TestQEMUBoot after growing it from
// 64 MiB to 128 MiB: stage 1 must move the backup GPT, extend ROS_STATE
// (40 MiB at 17 MiB) to the new end aligned to 1 MiB (110 MiB), tell the
// running kernel with BLKPG and grow the 8 MiB ext4 to fill it.
func TestQEMUGrowPartition(t *testing.T) {
	qemutest.Require(t) // skips under -short
	for _, tool := range []string{"mksquashfs", "sgdisk", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	k := testkernel.Get(t)
	dir := t.TempDir()
	stage1 := goBuild(t, dir, "ros-initrd", "../cmd/ros-initrd")
	initrd := buildInitrd(t, ctx, filepath.Join(dir, "initrd"), initramfs.Options{Init: stage1, ModulesDir: k.ModulesDir})
	disk := testDisk(t, dir, testRootfs(t, dir))
	if err := os.Truncate(disk, 128<<20); err != nil {
		t.Fatal(err)
	}

	out := boot(t, ctx, k.Vmlinuz, initrd, disk, "ros.slot=A")
	expect(t, out, "state: grew partition ROS_STATE from 40 MiB to 110 MiB", "state: grew /dev/vda2 from 8 MiB to 110 MiB",
		"ROS-TEST-ROOT root-ro=true etc-writable=true var=ext4:/dev/vda2")
	if m := regexp.MustCompile(`var-mib=(\d+)`).FindStringSubmatch(out); m == nil {
		t.Errorf("boot: no var-mib in the console")
	} else if mib, _ := strconv.Atoi(m[1]); mib < 90 {
		t.Errorf("boot: /var is %d MiB, want the grown ~110 MiB", mib)
	}

	b, err := exec.Command("sgdisk", "-v", disk).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "No problems found") {
		t.Errorf("sgdisk -v after boot = %v\n%s", err, b)
	}
	b, err = exec.Command("sgdisk", "-i", "2", disk).CombinedOutput()
	if err != nil || !strings.Contains(string(b), "Last sector: 260095 ") {
		t.Errorf("sgdisk -i 2 after boot = %v, want last sector 260095\n%s", err, b)
	}
}
