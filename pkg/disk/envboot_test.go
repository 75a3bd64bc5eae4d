package disk

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/disk/boottest"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
	"github.com/ros-os/ros/pkg/qemu"
)

// abImage writes a disk with test payloads A and B (64 MiB slots).
func abImage(t *testing.T) string {
	t.Helper()
	pa := boottest.Payload(t, "A", testCmdline, "gzip")
	pb := boottest.Payload(t, "B", testCmdline+" ros.test=b", "gzip")
	img := filepath.Join(t.TempDir(), "disk.img")
	if _, err := Write(context.Background(), Options{Payload: pa, PayloadB: pb, Version: "v1", VersionB: "v2", Out: img, SlotSize: 64 * MiB}); err != nil {
		t.Fatalf("Write() = %v", err)
	}
	return img
}

func readBlock(t *testing.T, img, file string) []byte {
	t.Helper()
	b, err := ReadEnvBlock(img, file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeBlock(t *testing.T, img, file string, b []byte) {
	t.Helper()
	if err := WriteEnvBlock(img, file, b); err != nil {
		t.Fatal(err)
	}
}

// TestBootEnvBackup: GRUB boots by grubenv.bak when the primary is
// unusable, and saves its trial decrement into the backup. Two ways the
// primary fails: a destroyed signature (load_env fails), and a block that
// loads but whose ros_sum and ros_sum_end differ (a torn write).
func TestBootEnvBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	needDiskTools(t)
	tests := []struct {
		name    string
		fw      qemu.Firmware
		primary func(t *testing.T, trial []byte) []byte
	}{
		{"signature/" + string(qemu.BIOS), qemu.BIOS, destroySignature},
		{"signature/" + string(qemu.UEFI), qemu.UEFI, destroySignature},
		{"torn/" + string(qemu.BIOS), qemu.BIOS, tornSeal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			boottest.NeedQEMU(t, tt.fw)
			img := abImage(t)
			env, err := ReadEnv(img)
			if err != nil {
				t.Fatal(err)
			}
			cmdB, _ := env.Get(grub.CmdlineVar("B"))
			if err := grub.TryNext(env, "B", cmdB, 1); err != nil {
				t.Fatal(err)
			}
			if err := grub.Seal(env); err != nil {
				t.Fatal(err)
			}
			trial, err := env.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			writeBlock(t, img, GrubEnvBackupFile, trial)
			primary := tt.primary(t, readBlock(t, img, GrubEnvFile))
			writeBlock(t, img, GrubEnvFile, primary)

			res := boottest.Boot(t, qemu.Config{Firmware: tt.fw, Image: img})
			res.Expect(t, "B", "B")
			if !strings.Contains(res.Line, "ros.test=b") {
				t.Errorf("slot B booted without its command line from the backup: %q", res.Line)
			}
			bak, err := ReadEnvFile(img, GrubEnvBackupFile)
			if err != nil {
				t.Fatalf("backup after the boot: %v", err)
			}
			if v, _ := bak.Get(grub.VarTries); v != "0" {
				t.Errorf("backup ros_tries after the trial boot = %q, want 0 (GRUB saves into the copy it loaded)", v)
			}
			if err := grub.CheckSeal(bak); err != nil {
				t.Errorf("backup seal after GRUB's save: %v", err)
			}
			if got := readBlock(t, img, GrubEnvFile); string(got) != string(primary) {
				t.Errorf("GRUB changed the unusable primary:\n%q", got)
			}
			t.Logf("%s: slot B from the backup after %v", tt.name, res.ToMarker.Round(time.Millisecond))
		})
	}
}

// destroySignature keeps the primary's variables (no trial: slot A) under
// a broken header, so GRUB's load_env refuses it.
func destroySignature(t *testing.T, primary []byte) []byte {
	b := append([]byte(nil), primary...)
	copy(b, "# GRUB Environment Blok\n")
	return b
}

// tornSeal keeps a loadable primary (no trial: slot A) whose seal halves
// differ, as a write torn between sectors leaves it.
func tornSeal(t *testing.T, primary []byte) []byte {
	env, err := grubenv.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(grub.VarSumEnd, "0badc0de"); err != nil {
		t.Fatal(err)
	}
	b, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if e, err := grubenv.Parse(b); err != nil || grub.SealsAgree(e) {
		t.Fatalf("tornSeal made a block whose seal agrees: %v", err)
	}
	return b
}

// TestBootNoFallback: slot A (good) cannot be loaded and slot B is marked
// writing: GRUB must not boot B as the fallback, however bootable it is.
// The control boot marks B good and must fall back to it.
func TestBootNoFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped under -short")
	}
	needDiskTools(t)
	boottest.NeedQEMU(t, qemu.BIOS)
	img := abImage(t)
	l, err := ReadLayout(img)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := l.Slot("A")
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(make([]byte, 4*MiB), a.Start) // slot A's squashfs is gone
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	setB := func(state string) {
		env, err := ReadEnv(img)
		if err != nil {
			t.Fatal(err)
		}
		if err := grub.SetSlotState(env, "B", state); err != nil {
			t.Fatal(err)
		}
		if err := WriteEnv(img, env); err != nil {
			t.Fatal(err)
		}
	}

	for _, state := range []string{grub.SlotWriting, grub.SlotBad, grub.SlotEmpty} {
		t.Run(state, func(t *testing.T) {
			setB(state)
			res := boottest.BootUntil(t, qemu.Config{Firmware: qemu.BIOS, Image: img},
				regexp.MustCompile(`ros: no slot can be booted|`+boottest.Marker))
			if !strings.Contains(res.Line, "no slot can be booted") {
				t.Fatalf("GRUB booted something with A unloadable and B %s: %q", state, res.Line)
			}
			for _, want := range []string{"ros: slot A cannot be booted", "ros: no fallback to slot B: it is " + state} {
				if !strings.Contains(res.Output, want) {
					t.Errorf("console lacks %q", want)
				}
			}
			if strings.Contains(res.Output, "booting slot B") {
				t.Errorf("GRUB tried slot B in state %s", state)
			}
			t.Logf("B %s: refused after %v", state, res.ToMarker.Round(time.Millisecond))
		})
	}
	t.Run("control good", func(t *testing.T) {
		setB(grub.SlotGood)
		res := boottest.Boot(t, qemu.Config{Firmware: qemu.BIOS, Image: img})
		res.Expect(t, "B", "B")
		if !strings.Contains(res.Output, "ros: slot A cannot be booted") {
			t.Errorf("console does not show slot A failing before the fallback")
		}
		t.Logf("B good: fallback boot after %v", res.ToMarker.Round(time.Millisecond))
	})
}
