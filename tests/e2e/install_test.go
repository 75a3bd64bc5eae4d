package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/pkg/qemu/qemutest"
)

// TestInstall boots the live ISO with a blank disk: an upgrade is refused
// there, `ros install` lays out the disk with a cloud-config, and the
// installed machine boots v1 from slot A with that config; then it
// upgrades to v2 from an HTTP channel.
func TestInstall(t *testing.T) {
	set := upgradeImages(t)
	img := set.v1
	blank := blankDisk(t)
	srv := newBundleServer(t)
	userData := filepath.Join(t.TempDir(), "user-data")
	if err := os.WriteFile(userData, []byte("#cloud-config\nhostname: installed-box\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ccURL := srv.add("user-data", userData)
	fwd := []qemu.GuestForward{srv.forward()}
	m := boot(t, img, qemu.Config{Image: img.Base + ".iso", Disks: []qemu.Disk{{Path: blank, Format: "raw"}}, GuestForwards: fwd})

	if out, code := m.sshCode("ros os upgrade --bundle /home/ros/none.bundle"); code == 0 || !strings.Contains(out, "live") {
		t.Errorf("upgrade on the live ISO: exit %d %q, want a refusal naming the live media", code, out)
	}
	if out, code := m.sshCode("ros install -d /dev/vda -c " + ccURL + " --no-reboot"); code != 0 {
		t.Fatalf("ros install: exit %d:\n%s", code, out)
	}
	if out, code := m.sshCode("ros install -d /dev/vda --no-reboot"); code == 0 || !strings.Contains(out, "not blank") {
		t.Errorf("second install without --force: exit %d %q, want a refusal (the disk has partitions now)", code, out)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if err := m.vm.Shutdown(ctx); err != nil {
		t.Fatalf("power off: %v", err)
	}
	if err := m.vm.Wait(ctx); err != nil {
		t.Fatalf("power off: %v", err)
	}
	m.vm.Close()
	m.vm = nil
	m = boot(t, img, qemu.Config{Image: blank, GuestForwards: fwd})
	m.expectSlots("A:good:v1* B:empty:")
	if got := strings.TrimSpace(m.ssh("hostname")); got != "installed-box" {
		t.Errorf("hostname of the installed machine = %q, want installed-box (from the install's cloud-config)", got)
	}

	ch := channelIndex(t, srv, map[string]string{"v2": set.v2})
	m.upgradeAndBoot("--channel " + ch)
	m.waitConsole("ros: slot B (v2) is good", 2*time.Minute)
	m.expectSlots("A:good:v1 B:good:v2*")
}

// TestInstallMenuEntry picks the ISO's "Install ros to the first disk"
// entry from GRUB's menu on the serial console, as a user at the keyboard
// would: the machine installs to the blank disk by itself
// (ros.install.device=auto) and powers off, and the disk then boots v1
// from slot A.
func TestInstallMenuEntry(t *testing.T) {
	img := upgradeImages(t).v1
	blank := blankDisk(t)
	vm := qemutest.Start(t, withSSH(qemu.Config{Image: img.Base + ".iso", Disks: []qemu.Disk{{Path: blank, Format: "raw"}}}))
	ctx, cancel := context.WithTimeout(t.Context(), bootTimeout)
	defer cancel()
	// The live ISO's menu: live, debug shell, install.
	pickMenuEntry(ctx, t, vm, 2)
	if _, err := vm.WaitForRegexp(ctx, regexp.MustCompile(`Command line: .*ros\.install\.device=auto`)); err != nil {
		t.Fatalf("choosing the install entry: %v", err)
	}
	for _, line := range []string{"ros: install: installed ros v1 on /dev/vda", "ros: install done; powering off"} {
		if _, err := vm.WaitFor(ctx, line); err != nil {
			t.Fatalf("unattended install: %v", err)
		}
	}
	if err := vm.Wait(ctx); err != nil {
		t.Fatalf("power off after the install: %v", err)
	}
	vm.Close()

	m := boot(t, img, qemu.Config{Image: blank})
	m.expectSlots("A:good:v1* B:empty:")
}

// blankDisk returns a sparse 3 GiB raw disk with nothing on it.
func blankDisk(t *testing.T) string {
	t.Helper()
	blank := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(blank, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(blank, 3<<30); err != nil {
		t.Fatal(err)
	}
	return blank
}
