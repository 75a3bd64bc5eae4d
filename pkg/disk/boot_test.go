package disk

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
	"github.com/ros-os/ros/pkg/qemu"
)

const testCmdline = "console=ttyS0,115200 panic=5 loglevel=4"

// TestBootDisk boots one disk on SeaBIOS and on OVMF and expects slot A's
// payload to run with ros.slot=A.
func TestBootDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	needDiskTools(t)
	boottest.NeedQEMU(t, qemu.BIOS)
	start := time.Now()
	pa := boottest.Payload(t, "A", testCmdline, "xz")
	t.Logf("payload A built in %v", time.Since(start).Round(time.Millisecond))
	img := filepath.Join(t.TempDir(), "disk.img")
	start = time.Now()
	if _, err := Write(context.Background(), Options{Payload: pa, Out: img}); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	t.Logf("disk written in %v", time.Since(start).Round(time.Millisecond))
	for _, fw := range []qemu.Firmware{qemu.BIOS, qemu.UEFI} {
		t.Run(string(fw), func(t *testing.T) {
			res := boottest.Boot(t, qemu.Config{Firmware: fw, Image: img})
			res.Expect(t, "A", "A")
			t.Logf("%s: marker after %v, qemu exited after %v", fw, res.ToMarker.Round(time.Millisecond), res.Total.Round(time.Millisecond))
		})
	}
}

// TestBootAB tries slot B once: the first boot runs B (and uses up the
// try), the next boot falls back to A because B was never marked good.
func TestBootAB(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	needDiskTools(t)
	for _, fw := range []qemu.Firmware{qemu.BIOS, qemu.UEFI} {
		t.Run(string(fw), func(t *testing.T) {
			boottest.NeedQEMU(t, fw)
			pa := boottest.Payload(t, "A", testCmdline, "gzip")
			pb := boottest.Payload(t, "B", testCmdline+" ros.test=b", "gzip")
			img := filepath.Join(t.TempDir(), "disk.img")
			if _, err := Write(context.Background(), Options{Payload: pa, PayloadB: pb, Out: img, SlotSize: 64 * MiB}); err != nil {
				t.Fatalf("Write() = %v", err)
			}
			env, err := ReadEnv(img)
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Set(grub.VarTry, "B"); err != nil {
				t.Fatal(err)
			}
			if err := env.Set(grub.VarTries, "1"); err != nil {
				t.Fatal(err)
			}
			if err := WriteEnv(img, env); err != nil {
				t.Fatal(err)
			}

			res := boottest.Boot(t, qemu.Config{Firmware: fw, Image: img})
			res.Expect(t, "B", "B")
			if !strings.Contains(res.Line, "ros.test=b") {
				t.Errorf("slot B booted without its own command line: %q", res.Line)
			}
			env, err = ReadEnv(img)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := env.Get(grub.VarTries); v != "0" {
				t.Errorf("ros_tries after the trial boot = %q, want 0 (saved before boot)", v)
			}
			bak, err := ReadEnvFile(img, GrubEnvBackupFile)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := bak.Get(grub.VarTries); v != "0" {
				t.Errorf("backup ros_tries after the trial boot = %q, want 0 (GRUB saves into both copies)", v)
			}
			for name, e := range map[string]*grubenv.Env{"grubenv": env, "grubenv.bak": bak} {
				if err := grub.CheckSeal(e); err != nil {
					t.Errorf("%s seal after GRUB's save: %v", name, err)
				}
			}
			t.Logf("%s trial boot of B: marker after %v", fw, res.ToMarker.Round(time.Millisecond))

			res = boottest.Boot(t, qemu.Config{Firmware: fw, Image: img})
			res.Expect(t, "A", "A")
			t.Logf("%s fallback boot of A: marker after %v", fw, res.ToMarker.Round(time.Millisecond))
		})
	}
}

// TestBootFallback points ros_good at an empty slot B: GRUB cannot load it
// and must fall back to slot A instead of hanging.
func TestBootFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	needDiskTools(t)
	boottest.NeedQEMU(t, qemu.BIOS)
	pa := boottest.Payload(t, "A", testCmdline, "gzip")
	img := filepath.Join(t.TempDir(), "disk.img")
	if _, err := Write(context.Background(), Options{Payload: pa, Out: img, SlotSize: 64 * MiB}); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	env, err := ReadEnv(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(grub.VarGood, "B"); err != nil {
		t.Fatal(err)
	}
	if err := WriteEnv(img, env); err != nil {
		t.Fatal(err)
	}
	res := boottest.Boot(t, qemu.Config{Firmware: qemu.BIOS, Image: img})
	res.Expect(t, "A", "A")
	if !strings.Contains(res.Output, "ros: slot B cannot be booted") {
		t.Errorf("console does not show slot B failing before the fallback")
	}
	t.Logf("fallback from empty B to A: marker after %v", res.ToMarker.Round(time.Millisecond))
}
