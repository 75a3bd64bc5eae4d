package initrd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk/payload/layout"
	"github.com/ros-os/ros/pkg/initramfs"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/testkernel"
)

// TestQEMUBoot boots Debian's kernel with a real stage-1 initramfs twice:
// (a) with the root squashfs appended to the initramfs (PXE), and (b) from a
// virtio disk with GPT partitions ROS_A (a two-part payload: the zstd root
// after a boot squashfs) and ROS_STATE (a small ext4 that stage 1 must
// grow), and from a live ISO holding the same payload. The root's
// /sbin/init reports what it sees.
func TestQEMUBoot(t *testing.T) {
	qemutest.Require(t) // skips under -short
	for _, tool := range []string{"mksquashfs", "sgdisk", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	k := testkernel.Get(t)
	dir := t.TempDir()
	stage1 := goBuild(t, dir, "ros-initrd", "../cmd/ros-initrd")
	rootfs := testRootfs(t, dir)
	payload := zstdPayload(t, dir, rootfs)

	t.Run("embedded", func(t *testing.T) {
		initrd := buildInitrd(t, ctx, filepath.Join(dir, "initrd-embedded"), initramfs.Options{Init: stage1, ModulesDir: k.ModulesDir, RootfsSquashfs: rootfs})
		out := boot(t, ctx, k.Vmlinuz, initrd, "", "")
		expect(t, out, "ros-initrd: root: embedded squashfs from /rootfs.squashfs", "/var is a tmpfs",
			"ROS-TEST-ROOT root-ro=true etc-writable=true var=tmpfs:tmpfs")
	})
	t.Run("disk", func(t *testing.T) {
		initrd := buildInitrd(t, ctx, filepath.Join(dir, "initrd"), initramfs.Options{Init: stage1, ModulesDir: k.ModulesDir})
		disk := testDisk(t, dir, payload)
		out := boot(t, ctx, k.Vmlinuz, initrd, disk, "ros.slot=A")
		expect(t, out, "ros-initrd: root: slot squashfs from /dev/vda1 (zstd at byte 4096)", "state: /dev/vda2 (ROS_STATE) mounted on /var",
			"state: grew /dev/vda2 from 8 MiB to 40 MiB", "ROS-TEST-ROOT root-ro=true etc-writable=true var=ext4:/dev/vda2")
		var mib int
		if m := regexp.MustCompile(`var-mib=(\d+)`).FindStringSubmatch(out); m != nil {
			mib, _ = strconv.Atoi(m[1])
		}
		if mib < 30 {
			t.Errorf("boot: /var is %d MiB, want the grown ~40 MiB (8 MiB before)", mib)
		}
		if strings.Contains(out, "Cannot load crc32c") {
			t.Errorf("boot: ext4 came up without crc32c (soft dependency not honoured)")
		}
	})
	t.Run("live", func(t *testing.T) {
		if _, err := exec.LookPath("xorriso"); err != nil {
			t.Skip("needs xorriso")
		}
		initrd := filepath.Join(dir, "initrd")
		if _, err := os.Stat(initrd); err != nil {
			initrd = buildInitrd(t, ctx, initrd, initramfs.Options{Init: stage1, ModulesDir: k.ModulesDir})
		}
		iso := testISO(t, dir, payload)
		out := boot(t, ctx, k.Vmlinuz, initrd, "", "ros.live", "-cdrom", iso)
		expect(t, out, "ros-initrd: root: live squashfs from /run/ros/media/ros/rootfs.squashfs (zstd at byte 4096)",
			"ROS-TEST-ROOT root-ro=true etc-writable=true var=tmpfs:tmpfs", "ROS-TEST-MOUNT /dev/sr0 /run/ros/media iso9660 ro")
	})
	t.Run("failure-reboots", func(t *testing.T) {
		initrd := filepath.Join(dir, "initrd")
		if _, err := os.Stat(initrd); err != nil {
			initrd = buildInitrd(t, ctx, initrd, initramfs.Options{Init: stage1, ModulesDir: k.ModulesDir})
		}
		// No disk holds ROS_B: stage 1 must report it and reboot, which
		// -no-reboot turns into QEMU exiting (a kernel panic would hang).
		out := boot(t, ctx, k.Vmlinuz, initrd, "", "ros.slot=B ros.rootwait=1")
		expect(t, out, "ros-initrd: FAILED after", "phase find-root: no root filesystem found: waited 1s for a partition named ROS_B",
			"ros-initrd: rebooting in 10s", "reboot: Restarting system")
		if strings.Contains(out, "Kernel panic") {
			t.Errorf("boot: kernel panic instead of a reboot")
		}
	})
}

// testISO makes an ISO9660 image holding /ros/rootfs.squashfs.
func testISO(t *testing.T, dir, rootfs string) string {
	t.Helper()
	tree := filepath.Join(dir, "iso")
	if err := os.MkdirAll(filepath.Join(tree, "ros"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyAt(t, createFile(t, filepath.Join(tree, "ros", "rootfs.squashfs")), rootfs, 0)
	iso := filepath.Join(dir, "live.iso")
	if b, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-V", "ROS_LIVE", "-o", iso, tree).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, b)
	}
	return iso
}

func createFile(t *testing.T, p string) string {
	t.Helper()
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func expect(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("console lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}

func goBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	if err := qemutest.BuildStaticGo(t.Context(), pkg, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// zstdPayload writes the two-part payload a ros build makes: a small gzip
// boot squashfs, then rootfs (a zstd copy of it) at the next 4 KiB.
func zstdPayload(t *testing.T, dir, rootfs string) string {
	t.Helper()
	boot := filepath.Join(dir, "boot")
	if err := os.MkdirAll(filepath.Join(boot, "boot"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(boot, "boot", "cmdline"), []byte("console=ttyS0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bootfs, zstdfs := filepath.Join(dir, "boot.squashfs"), filepath.Join(dir, "rootfs-zstd.squashfs")
	if b, err := exec.Command("mksquashfs", boot, bootfs, "-comp", "gzip", "-noappend", "-all-root", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, b)
	}
	if b, err := exec.Command("unsquashfs", "-d", filepath.Join(dir, "unpacked"), rootfs).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, b)
	}
	if b, err := exec.Command("mksquashfs", filepath.Join(dir, "unpacked"), zstdfs, "-comp", "zstd", "-noappend", "-all-root", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, b)
	}
	out := filepath.Join(dir, "payload.squashfs")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := os.Open(bootfs)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r, err := os.Open(zstdfs)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := layout.Write(f, b, r); err != nil {
		t.Fatal(err)
	}
	return out
}

// testRootfs makes a gzip squashfs whose /sbin/init is testdata/testinit.
func testRootfs(t *testing.T, dir string) string {
	t.Helper()
	tree := filepath.Join(dir, "rootfs")
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "var", "etc", "sbin"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tree, "etc", "hostname"), []byte("ros-test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	goBuild(t, tree, "sbin/init", "./testdata/testinit")
	out := filepath.Join(dir, "rootfs.squashfs")
	if b, err := exec.Command("mksquashfs", tree, out, "-comp", "gzip", "-noappend", "-all-root", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, b)
	}
	return out
}

func buildInitrd(t *testing.T, ctx context.Context, path string, opt initramfs.Options) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := initramfs.Build(ctx, f, opt); err != nil {
		t.Fatalf("initramfs.Build() = %v", err)
	}
	fi, _ := f.Stat()
	t.Logf("initramfs %s: %d bytes", filepath.Base(path), fi.Size())
	return path
}

// testDisk makes a 64 MiB GPT disk: ROS_A (16 MiB) holds the squashfs,
// ROS_STATE (40 MiB) an 8 MiB ext4 labelled ROS_STATE.
func testDisk(t *testing.T, dir, rootfs string) string {
	t.Helper()
	disk := filepath.Join(dir, "disk.img")
	state := filepath.Join(dir, "state.ext4")
	run := func(name string, args ...string) {
		if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
	}
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 64<<20); err != nil {
		t.Fatal(err)
	}
	run("sgdisk", "-n", "1:2048:+16M", "-c", "1:ROS_A", "-n", "2:0:+40M", "-c", "2:ROS_STATE", disk)
	if err := os.WriteFile(state, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(state, 8<<20); err != nil {
		t.Fatal(err)
	}
	run("mkfs.ext4", "-F", "-q", "-L", "ROS_STATE", state)
	out, err := exec.Command("sgdisk", "-i", "2", disk).Output()
	if err != nil {
		t.Fatal(err)
	}
	var stateStart int64
	if m := regexp.MustCompile(`First sector: (\d+)`).FindSubmatch(out); m != nil {
		if _, err := fmt.Sscan(string(m[1]), &stateStart); err != nil {
			t.Fatalf("sgdisk -i 2: first sector %q: %v", m[1], err)
		}
	}
	if stateStart == 0 {
		t.Fatalf("sgdisk -i 2: no first sector in %s", out)
	}
	copyAt(t, disk, rootfs, 2048*512)
	copyAt(t, disk, state, stateStart*512)
	return disk
}

func copyAt(t *testing.T, dst, src string, off int64) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
}

// boot runs QEMU until the guest powers off and returns the console text.
// The machine is QEMU's "pc" (i440fx): the live CD sits on ata_piix.
func boot(t *testing.T, ctx context.Context, kernel, initrd, disk, cmdline string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cfg := qemu.Config{Kernel: kernel, Initrd: initrd, Cmdline: strings.TrimSpace("console=ttyS0 quiet panic=-1 " + cmdline),
		Machine: "pc", MemoryMiB: 512, NoNetwork: true, NoReboot: true, ExtraArgs: extra}
	if disk != "" {
		cfg.Disks = []qemu.Disk{{Path: disk, Format: "raw"}}
	}
	start := time.Now()
	vm := qemutest.Start(t, cfg)
	err := vm.Wait(ctx)
	wall := time.Since(start)
	text := strings.ReplaceAll(vm.Console(), "\r", "")
	if err != nil {
		t.Fatalf("qemu %v: %v after %s\n%s", vm.Args(), err, wall, text)
	}
	ready := regexp.MustCompile(`root ready at kernel uptime (\S+)`).FindStringSubmatch(text)
	up := regexp.MustCompile(`ROS-TEST-ROOT .* uptime=(\S+)`).FindStringSubmatch(text)
	t.Logf("boot %q: QEMU ran %s wall; stage 1 ready at uptime %v, test init at uptime %v", cmdline, wall.Round(100*time.Millisecond), last(ready), last(up))
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "ros-initrd:") || strings.HasPrefix(line, "ROS-TEST-ROOT") || os.Getenv("ROS_TEST_CONSOLE") != "" {
			t.Log(line)
		}
	}
	return text
}

func last(m []string) string {
	if len(m) == 0 {
		return "?"
	}
	return m[len(m)-1]
}
