package install

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/grub"
)

const (
	GiB = int64(1) << 30
	MiB = disk.MiB
)

func TestLayout(t *testing.T) {
	tests := []struct {
		size, slot int64
		wantState  int64 // 0: want ErrTooSmall
	}{
		// 1 MiB before BIOS boot, 1 + 64 + 2*slot, the rest but 1 MiB.
		{2 * GiB, 512 * MiB, (2048 - 1 - 1 - 64 - 1024 - 1) * MiB},
		{2*GiB + 123456, 512 * MiB, (2048 - 1 - 1 - 64 - 1024 - 1) * MiB},
		{20 * GiB, 512 * MiB, (20480 - 1091) * MiB},
		{1 * GiB, 256 * MiB, (1024 - 1 - 1 - 64 - 512 - 1) * MiB},
		{1 * GiB, 512 * MiB, 0},
		{1091*MiB + 128*MiB, 512 * MiB, 128 * MiB},
		{1091*MiB + 127*MiB, 512 * MiB, 0},
	}
	for _, tt := range tests {
		l, err := Layout(tt.size, disk.DefaultEFISize, tt.slot, 128*MiB)
		if tt.wantState == 0 {
			if !errors.Is(err, ErrTooSmall) {
				t.Errorf("Layout(%d, slot %d) = %v, want ErrTooSmall", tt.size, tt.slot, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Layout(%d, slot %d) = %v", tt.size, tt.slot, err)
			continue
		}
		st, _ := l.State()
		want := tt.wantState
		if st.Size != want || l.Size != tt.size || st.End() > tt.size-MiB || st.Number != disk.PartState {
			t.Errorf("Layout(%d, slot %d) state = %+v (disk %d), want %d bytes ending 1 MiB before the end", tt.size, tt.slot, st, l.Size, want)
		}
		for _, p := range l.Partitions {
			if p.Start%MiB != 0 || p.Size%MiB != 0 {
				t.Errorf("Layout(%d) partition %+v not MiB-aligned", tt.size, p)
			}
		}
	}
	_, err := Layout(1*GiB, disk.DefaultEFISize, 512*MiB, 128*MiB)
	if err == nil || !strings.Contains(err.Error(), "needs at least 1.2 GiB") {
		t.Errorf("Layout(1 GiB) error = %v, want it to say ros needs at least 1.2 GiB", err)
	}
}

// TestInstallImage installs to a disk image and checks it with sgdisk,
// fsck.vfat, mtools, grub-editenv and e2fsck.
func TestInstallImage(t *testing.T) {
	kit := testKit(t)
	pay := fakePayload(t, "console=ttyS0 panic=5", "v1", map[string][]byte{"big": randomBytes(3 << 20)})
	img := image(t, 2*GiB)
	progress, msgs := progressLog(t)
	err := Install(context.Background(), Options{Device: img, Kit: kit, Payload: pay, Progress: progress})
	if err != nil {
		t.Fatalf("Install() = %v", err)
	}
	if len(*msgs) < 8 {
		t.Errorf("Install() reported %d progress messages, want one per step", len(*msgs))
	}

	// The partition table, as sgdisk reads it.
	out := tool(t, "sgdisk", "-p", img)
	for _, re := range []string{
		`(?m)^\s+1\s+2048\s+4095\s+1024\.0 KiB\s+EF02\s+BIOS boot$`,
		`(?m)^\s+2\s+4096\s+135167\s+64\.0 MiB\s+EF00\s+ROS_EFI$`,
		`(?m)^\s+3\s+135168\s+1183743\s+512\.0 MiB\s+8300\s+ROS_A$`,
		`(?m)^\s+4\s+1183744\s+2232319\s+512\.0 MiB\s+8300\s+ROS_B$`,
		`(?m)^\s+5\s+2232320\s+4192255\s+957\.0 MiB\s+8300\s+ROS_STATE$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("sgdisk -p lacks %s:\n%s", re, out)
		}
	}
	if v := tool(t, "sgdisk", "-v", img); !strings.Contains(v, "No problems found") {
		t.Errorf("sgdisk -v:\n%s", v)
	}
	l, err := disk.ReadLayout(img)
	if err != nil {
		t.Fatalf("ReadLayout() = %v", err)
	}
	want, _ := Layout(2*GiB, disk.DefaultEFISize, disk.DefaultSlotSize, disk.DefaultKitStateSize)
	for i, p := range want.Partitions {
		if i >= len(l.Partitions) || l.Partitions[i] != p {
			t.Errorf("partition %d = %+v, want %+v", i+1, l.Partitions, p)
			break
		}
	}

	// MBR: GRUB's boot code pointing at LBA 2048, the protective MBR kept.
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mbr := make([]byte, 512)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	bootImg, _ := os.ReadFile(kit + "/" + disk.KitBootImg)
	if !bytes.Equal(mbr[:0x5c], bootImg[:0x5c]) || mbr[0x5c] != 0x00 || mbr[0x5d] != 0x08 || mbr[510] != 0x55 || mbr[511] != 0xaa || mbr[446+4] != 0xee {
		t.Errorf("MBR is not GRUB's boot.img aimed at LBA 2048 over a protective MBR: % x", mbr)
	}

	// Slot A holds the payload byte for byte; B starts with zeros.
	a, _ := l.Slot("A")
	pb, _ := os.ReadFile(pay)
	got := make([]byte, len(pb))
	if _, err := f.ReadAt(got, a.Start); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pb) {
		t.Errorf("ROS_A does not hold the payload")
	}
	b, _ := l.Slot("B")
	head := make([]byte, MiB)
	if _, err := f.ReadAt(head, b.Start); err != nil {
		t.Fatal(err)
	}
	if !allZero(head) {
		t.Errorf("ROS_B does not start with zeros")
	}

	// The ESP, as fsck.vfat, mtools and grub-editenv read it.
	efi, _ := l.Find(disk.LabelEFI)
	esp := extract(t, img, efi.Start, efi.Size)
	tool(t, "fsck.vfat", "-n", esp)
	dir := t.TempDir()
	for _, name := range []string{"grubenv", "grubenv.bak"} {
		tool(t, "mcopy", "-i", esp, "::/EFI/BOOT/"+name, dir+"/"+name)
		list := tool(t, "grub-editenv", dir+"/"+name, "list")
		for _, want := range []string{"ros_good=A\n", "ros_state_A=good\n", "ros_version_A=v1\n", "ros_cmdline_A=console=ttyS0 panic=5\n", "ros_state_B=empty\n", "ros_try=\n"} {
			if !strings.Contains(list, want) {
				t.Errorf("grub-editenv %s list lacks %q:\n%s", name, want, list)
			}
		}
	}
	cfg := tool(t, "mtype", "-i", esp, "::/EFI/BOOT/grub.cfg")
	wantCfg, _ := grub.DiskConfig(grub.DiskOptions{})
	if cfg != wantCfg {
		t.Errorf("grub.cfg on the ESP is not DiskConfig's")
	}
	for _, file := range []string{disk.GrubEnvFile, disk.GrubEnvBackupFile} {
		env, err := disk.ReadEnvFile(img, file)
		if err != nil {
			t.Fatalf("ReadEnvFile(%s) = %v", file, err)
		}
		if err := grub.CheckSeal(env); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}

	// ROS_STATE: the ext4 template, labelled ROS_STATE, clean.
	st, _ := l.State()
	state := extract(t, img, st.Start, disk.DefaultKitStateSize)
	tool(t, "e2fsck", "-fn", state)
	if out := tool(t, "dumpe2fs", "-h", state); !strings.Contains(out, "Filesystem volume name:   ROS_STATE") {
		t.Errorf("ROS_STATE label:\n%s", out)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}

// TestInstallRefuses checks each refusal and that it leaves the disk
// untouched.
func TestInstallRefuses(t *testing.T) {
	kit := testKit(t)
	pay := fakePayload(t, "console=ttyS0", "v1", nil)
	// Small slots keep the images small, so hashing them is quick.
	const slot, size = 16 * MiB, 300 * MiB
	installed := image(t, size)
	if err := Install(context.Background(), Options{Device: installed, Kit: kit, Payload: pay, SlotSize: slot}); err != nil {
		t.Fatalf("Install() = %v", err)
	}
	ext4 := image(t, size)
	tool(t, "mkfs.ext4", "-q", "-F", ext4)
	mbr := image(t, size)
	writeMBR(t, mbr)
	damaged := copyKit(t)
	if err := os.WriteFile(damaged+"/"+disk.KitCoreImg, []byte("not core.img"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := fakePayload(t, "console=ttyS0", "v1", map[string][]byte{"big": randomBytes(9 << 20)})
	arm := fakePayload(t, "console=ttyS0", "v1", map[string][]byte{"usr/lib/ros/arch": []byte("arm64\n")})

	tests := []struct {
		name    string
		device  string
		o       Options
		want    error
		message string
	}{
		{"partitioned", installed, Options{}, ErrNotBlank, "it holds a GPT partition table; use --force"},
		{"MBR", mbr, Options{}, ErrNotBlank, "it holds an MBR partition table"},
		{"filesystem", ext4, Options{}, ErrNotBlank, "it holds an ext2/3/4 filesystem"},
		{"too small", image(t, 200*MiB), Options{}, ErrTooSmall, "200 MiB, ros needs at least 227 MiB (ROS_EFI 64 MiB, two slots of 16 MiB, ROS_STATE 128 MiB)"},
		{"too small for default slots", image(t, 1*GiB), Options{SlotSize: disk.DefaultSlotSize}, ErrTooSmall, "1.0 GiB, ros needs at least 1.2 GiB"},
		{"payload too large", image(t, size), Options{Payload: big, SlotSize: 8 * MiB}, ErrPayloadTooLarge, "a slot is 8 MiB"},
		{"wrong arch", image(t, size), Options{Payload: arm}, ErrArch, "is for arm64, the kit for amd64"},
		{"damaged kit", image(t, size), Options{Kit: damaged}, disk.ErrKit, "core.img"},
		{"not a disk", t.TempDir(), Options{}, nil, "neither a block device nor a disk image file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Device = tt.device
			if o.Kit == "" {
				o.Kit = kit
			}
			if o.Payload == "" {
				o.Payload = pay
			}
			if o.SlotSize == 0 {
				o.SlotSize = slot
			}
			var before string
			if fi, err := os.Stat(tt.device); err == nil && fi.Mode().IsRegular() {
				before = hashFile(t, tt.device)
			}
			err := Install(context.Background(), o)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("Install(%s) = %v, want %v saying %q", tt.name, err, tt.want, tt.message)
			}
			t.Logf("refused: %v", err)
			if before != "" && hashFile(t, tt.device) != before {
				t.Errorf("Install(%s) refused but changed the disk", tt.name)
			}
		})
	}
}

// TestInstallForce reinstalls over an installed disk with Force.
func TestInstallForce(t *testing.T) {
	kit := testKit(t)
	img := image(t, 2*GiB)
	p1 := fakePayload(t, "console=ttyS0 v=1", "v1", nil)
	p2 := fakePayload(t, "console=ttyS0 v=2", "v2", nil)
	if err := Install(context.Background(), Options{Device: img, Kit: kit, Payload: p1}); err != nil {
		t.Fatalf("Install(v1) = %v", err)
	}
	before := hashFile(t, img)
	if err := Install(context.Background(), Options{Device: img, Kit: kit, Payload: p2, Force: true, Cmdline: "console=ttyS0 custom", Version: "v2-custom"}); err != nil {
		t.Fatalf("Install(v2, Force) = %v", err)
	}
	if hashFile(t, img) == before {
		t.Errorf("the forced install left the disk as it was")
	}
	env, err := disk.ReadEnv(img)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{grub.VarGood: "A", "ros_version_A": "v2-custom", "ros_cmdline_A": "console=ttyS0 custom"} {
		if got, _ := env.Get(name); got != want {
			t.Errorf("after the forced install %s = %q, want %q", name, got, want)
		}
	}
}

// writeMBR gives the image an MBR partition table with one Linux partition.
func writeMBR(t *testing.T, img string) {
	t.Helper()
	mbr := make([]byte, 512)
	e := mbr[446:]
	e[4] = 0x83
	binary.LittleEndian.PutUint32(e[8:], 2048)
	binary.LittleEndian.PutUint32(e[12:], 4096)
	mbr[510], mbr[511] = 0x55, 0xaa
	f, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
}
