package install

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/initramfs"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
	"github.com/ros-os/ros/pkg/testkernel"
)

// TestBootInstalled installs a test payload (Debian's kernel and an init
// that prints a marker and powers off) to a disk image and boots it on
// SeaBIOS and OVMF: both must reach slot A's kernel with slot A's command
// line from grubenv.
func TestBootInstalled(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	boottest.NeedQEMU(t, qemu.BIOS)
	kit := testKit(t)
	pay := boottest.Payload(t, "A", "console=ttyS0,115200 panic=5 loglevel=4", "gzip")
	img := image(t, 2*GiB)
	start := time.Now()
	err := Install(context.Background(), Options{Device: img, Kit: kit, Payload: pay, Version: "v1", SlotSize: 64 * MiB,
		Cmdline: "console=ttyS0,115200 panic=5 loglevel=4 ros.test=installed"})
	if err != nil {
		t.Fatalf("Install() = %v", err)
	}
	t.Logf("installed in %v", time.Since(start).Round(time.Millisecond))
	for _, fw := range []qemu.Firmware{qemu.BIOS, qemu.UEFI} {
		t.Run(string(fw), func(t *testing.T) {
			res := boottest.Boot(t, qemu.Config{Firmware: fw, Image: img})
			res.Expect(t, "A", "A")
			if !strings.Contains(res.Line, "ros.test=installed") {
				t.Errorf("slot A booted without the installed command line: %q", res.Line)
			}
			t.Logf("%s: marker after %v", fw, res.ToMarker.Round(time.Millisecond))
		})
	}
}

// TestFirstBoot installs a payload with the real stage 1 (os/cmd/ros-initrd)
// and a cloud-config, and boots it: stage 1 must mount ROS_STATE on /var
// and grow the 128 MiB template to the partition, and the root must find
// the cloud-config at /var/lib/ros/install/cloud-config.yml.
func TestFirstBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	needRoot(t)
	boottest.NeedQEMU(t, qemu.BIOS)
	kit := testKit(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	k := testkernel.Get(t)
	dir := t.TempDir()
	stage1 := filepath.Join(dir, "ros-initrd")
	if err := qemutest.BuildStaticGo(ctx, "github.com/ros-os/ros/os/cmd/ros-initrd", stage1); err != nil {
		t.Fatal(err)
	}
	var initrd bytes.Buffer
	if err := initramfs.Build(ctx, &initrd, initramfs.Options{Init: stage1, ModulesDir: k.ModulesDir}); err != nil {
		t.Fatalf("initramfs.Build() = %v", err)
	}
	tree := filepath.Join(dir, "root")
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "var", "etc", "sbin", "boot"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := qemutest.BuildStaticGo(ctx, "./testdata/firstboot", filepath.Join(tree, "sbin/init")); err != nil {
		t.Fatal(err)
	}
	kernel, err := os.ReadFile(k.Vmlinuz)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"boot/kernel": kernel, "boot/initrd": initrd.Bytes(), "boot/cmdline": []byte("console=ttyS0,115200 panic=5\n")} {
		if err := os.WriteFile(filepath.Join(tree, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pay := filepath.Join(dir, "payload.squashfs")
	tool(t, "mksquashfs", tree, pay, "-comp", "gzip", "-noappend", "-all-root", "-quiet")

	img := image(t, 2*GiB)
	cc := "#cloud-config\nhostname: installed\n"
	if err := Install(ctx, Options{Device: img, Kit: kit, Payload: pay, Version: "v1", SlotSize: 64 * MiB, CloudConfig: []byte(cc)}); err != nil {
		t.Fatalf("Install() = %v", err)
	}
	l, err := disk.ReadLayout(img)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := l.State()

	start := time.Now()
	vm := qemutest.Start(t, qemu.Config{Firmware: qemu.BIOS, Image: img, NoNetwork: true, NoReboot: true, MemoryMiB: 512})
	m, err := vm.WaitForRegexp(ctx, regexp.MustCompile(`ROS-INSTALL-FIRSTBOOT ([^\r\n]*)\r?\n`))
	if err != nil {
		t.Fatalf("first boot: no report: %v", err)
	}
	t.Logf("first boot: %s (after %v)", m[1], time.Since(start).Round(time.Millisecond))
	var varMiB int64
	if v := regexp.MustCompile(`var-mib=(\d+)`).FindStringSubmatch(m[1]); v != nil {
		varMiB, _ = strconv.ParseInt(v[1], 10, 64)
	}
	if !strings.Contains(m[1], "var=ext4:") || varMiB < st.Size*9/10>>20 {
		t.Errorf("first boot: /var = %q (%d MiB), want ROS_STATE's ext4 grown to about %d MiB", m[1], varMiB, st.Size>>20)
	}
	if want := "cloud-config-mode=0600 cloud-config=" + strconv.Quote(cc); !strings.Contains(m[1], want) {
		t.Errorf("first boot report lacks %s", want)
	}
	if !strings.Contains(vm.Console(), "state: grew") {
		t.Errorf("stage 1 did not say it grew the state partition")
	}
}
