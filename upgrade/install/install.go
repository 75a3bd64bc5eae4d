// Package install puts ros on a blank disk from a running live system (or
// onto a disk image file): the GPT layout of pkg/disk sized to the whole
// device, GRUB for BIOS and UEFI, the running payload in ROS_A, an empty
// ROS_B, and a ROS_STATE that the init grows on first boot, with the
// cloud-config saved where rosd reads it.
//
// The machine has no host tools, so everything that needs them comes
// prepared in the install kit (pkg/disk.WriteKit; /ros/install on the live
// ISO): the BIOS boot code, the ESP as a compressed image with grub.cfg and
// both grubenv copies, and a small ext4 ROS_STATE template. Install writes
// bytes, and mounts ROS_STATE only to save the cloud-config.
//
// Order of work: refuse what must be refused before a byte is written
// (device in use, partition table or filesystem without Force, too small,
// payload bigger than a slot, damaged kit); wipe the old boot code and
// tables; write the GPT; the payload into ROS_A, synced and read back;
// zero the start of ROS_B; the ROS_STATE template and the cloud-config;
// and last the ESP and the BIOS boot code, so a disk whose install was cut
// short never boots.
package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/disk/payload"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// Where a live system finds the kit and its payload (the ISO is mounted at
// /run/ros/media).
const (
	DefaultKit     = "/run/ros/media/ros/install"
	DefaultPayload = "/run/ros/media/ros/rootfs.squashfs"
)

// CloudConfigFile is where Install saves the cloud-config, relative to the
// root of ROS_STATE; the running system sees it as
// /var/lib/ros/install/cloud-config.yml.
const CloudConfigFile = "lib/ros/install/cloud-config.yml"

// Files in the payload that name its version and architecture.
const (
	versionFile = "/usr/lib/ros/version"
	archFile    = "/usr/lib/ros/arch"
)

// Refusals (errors.Is).
var (
	ErrInUse           = errors.New("device is in use")
	ErrNotBlank        = errors.New("device is not blank")
	ErrTooSmall        = errors.New("device is too small")
	ErrPayloadTooLarge = errors.New("payload larger than slot")
	ErrSectorSize      = errors.New("unsupported sector size")
	ErrNoDevice        = errors.New("no device to install to")
	ErrArch            = errors.New("payload architecture does not match the kit")
	ErrVerify          = errors.New("verification failed")
)

// Options describe an install.
type Options struct {
	Device      string // block device or disk image file; Auto ("auto") picks one with AutoDevice
	Kit         string // kit directory; default DefaultKit
	Payload     string // payload squashfs; default DefaultPayload
	Version     string // ros_version_A; default the payload's usr/lib/ros/version
	Cmdline     string // ros_cmdline_A; default the payload's boot/cmdline
	CloudConfig []byte // saved as CloudConfigFile on ROS_STATE when not nil
	Force       bool   // overwrite a partition table or filesystem (never a device in use)
	SlotSize    int64  // size of ROS_A and ROS_B; default disk.DefaultSlotSize
	Progress    func(string)
}

// Install writes ros to o.Device. See the package comment.
func Install(ctx context.Context, o Options) error {
	return install(ctx, host, o)
}

func install(ctx context.Context, s system, o Options) error {
	say := func(format string, args ...any) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf(format, args...))
		}
	}
	if o.Kit == "" {
		o.Kit = DefaultKit
	}
	if o.Payload == "" {
		o.Payload = DefaultPayload
	}
	if o.SlotSize == 0 {
		o.SlotSize = disk.DefaultSlotSize
	}
	if o.SlotSize < 8*disk.MiB || o.SlotSize%disk.MiB != 0 {
		return fmt.Errorf("install: slot size %d: want a whole number of MiB, at least 8 MiB", o.SlotSize)
	}

	say("checking the install kit %s", o.Kit)
	kit, err := disk.ReadKit(o.Kit)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	p, err := openPayload(o, kit)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if o.Version == "" {
		o.Version = p.version
	}
	if o.Cmdline == "" {
		o.Cmdline = p.cmdline
	}
	if p.size > o.SlotSize {
		return fmt.Errorf("install: %w: %s is %s, a slot is %s", ErrPayloadTooLarge, o.Payload, human(p.size), human(o.SlotSize))
	}
	envBlock, err := envBlock(o.Cmdline, o.Version)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}

	if o.Device == "" {
		return fmt.Errorf("install: no device given (a disk, an image file, or %q)", Auto)
	}
	if o.Device == Auto {
		min, err := disk.NewLayout(kit.EFISize, o.SlotSize, kit.StateSize)
		if err != nil {
			return fmt.Errorf("install: %w", err)
		}
		dev, err := s.autoDevice(min.Size)
		if err != nil {
			return fmt.Errorf("install: %w", err)
		}
		say("ros.install.device=auto: chose %s", dev)
		o.Device = dev
	}
	say("checking %s", o.Device)
	t, err := openTarget(s, o.Device)
	if err != nil {
		return fmt.Errorf("install to %s: %w", o.Device, err)
	}
	defer t.close()
	if err := run(ctx, t, kit, p, o, envBlock, say); err != nil {
		return fmt.Errorf("install to %s: %w", o.Device, err)
	}
	return nil
}

// run does the install on the open target.
func run(ctx context.Context, t *target, kit *disk.Kit, p payloadInfo, o Options, envBlock []byte, say func(string, ...any)) error {
	if t.sectorSize != disk.SectorSize {
		return fmt.Errorf("%w: %d-byte sectors; ros disks use 512-byte sectors", ErrSectorSize, t.sectorSize)
	}
	what, err := probe(t.f, t.size)
	if err != nil {
		return fmt.Errorf("read %s: %w", t.path, err)
	}
	if what == "" && len(t.parts) > 0 {
		what = "partitions (" + strings.Join(t.parts, ", ") + ")"
	}
	if what != "" && !o.Force {
		return fmt.Errorf("%w: it holds %s; use --force to overwrite it", ErrNotBlank, what)
	}
	l, err := Layout(t.size, kit.EFISize, o.SlotSize, kit.StateSize)
	if err != nil {
		return err
	}
	parts := map[string]disk.Partition{}
	for _, pt := range l.Partitions {
		parts[pt.Label] = pt
	}
	if what != "" {
		say("overwriting %s (--force)", what)
	}

	// From here on the disk changes.
	say("wiping the old partition tables and boot code")
	for _, r := range [][2]int64{{0, disk.MiB}, {t.size - disk.MiB, disk.MiB}, {parts[disk.LabelEFI].Start, disk.MiB}} {
		if err := t.zero(r[0], r[1]); err != nil {
			return err
		}
	}
	var sizes []string
	for _, pt := range l.Partitions[1:] {
		sizes = append(sizes, pt.Label+" "+human(pt.Size))
	}
	say("writing the GPT (%s): %s", human(t.size), strings.Join(sizes, ", "))
	if err := l.GPT().Write(t.f, t.size); err != nil {
		return fmt.Errorf("write GPT: %w", err)
	}

	a := parts[disk.LabelA]
	say("writing %s (%s, version %s) to %s", filepath.Base(o.Payload), human(p.size), orUnknown(o.Version), disk.LabelA)
	next := int64(10)
	sum, err := t.writePayload(ctx, a.Start, o.Payload, func(done, total int64) {
		if total > 0 && done*100/total >= next {
			say("%s: %d%% (%s of %s)", disk.LabelA, done*100/total, human(done), human(total))
			next = done*100/total/10*10 + 10
		}
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", disk.LabelA, err)
	}
	say("%s verified: sha256 %s", disk.LabelA, sum)

	say("clearing %s", disk.LabelB)
	if err := t.zero(parts[disk.LabelB].Start, disk.MiB); err != nil {
		return err
	}

	st := parts[disk.LabelState]
	stFile, err := kit.File(disk.KitState)
	if err != nil {
		return err
	}
	say("writing %s (%s template, grown to %s on first boot)", disk.LabelState, human(stFile.ImageSize), human(st.Size))
	if err := t.writeGzipImage(ctx, st.Start, kit.Path(disk.KitState), stFile.ImageSize, nil); err != nil {
		return fmt.Errorf("write %s: %w", disk.LabelState, err)
	}
	if o.CloudConfig != nil {
		if err := saveCloudConfig(t, st, o.CloudConfig, say); err != nil {
			return err
		}
	}

	esp := parts[disk.LabelEFI]
	espFile, err := kit.File(disk.KitESP)
	if err != nil {
		return err
	}
	if espFile.ImageSize != esp.Size {
		return fmt.Errorf("kit ESP image is %d bytes, the partition %d", espFile.ImageSize, esp.Size)
	}
	var patches []patch
	for _, name := range kit.EnvFiles() {
		patches = append(patches, patch{off: kit.EnvOffsets[name], data: envBlock})
	}
	say("writing %s (GRUB for UEFI, grub.cfg, grubenv: slot A good, slot B empty)", disk.LabelEFI)
	if err := t.writeGzipImage(ctx, esp.Start, kit.Path(disk.KitESP), espFile.ImageSize, patches); err != nil {
		return fmt.Errorf("write %s: %w", disk.LabelEFI, err)
	}

	say("writing the BIOS boot code")
	core, err := os.ReadFile(kit.Path(disk.KitCoreImg))
	if err != nil {
		return err
	}
	boot, err := os.ReadFile(kit.Path(disk.KitBootImg))
	if err != nil {
		return err
	}
	if err := disk.InstallBIOS(t.f, l, core, boot); err != nil {
		return err
	}

	say("syncing")
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := t.dropCache(esp.Start, esp.Size); err != nil {
		return err
	}
	for _, name := range kit.EnvFiles() {
		env, err := grubenv.ReadAt(t.f, esp.Start+kit.EnvOffsets[name])
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrVerify, name, err)
		}
		if err := grub.CheckSeal(env); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrVerify, name, err)
		}
		if v, _ := env.Get(grub.VarGood); v != "A" {
			return fmt.Errorf("%w: %s reads back ros_good=%q", ErrVerify, name, v)
		}
	}
	if err := t.rereadPartitions(); err != nil {
		say("note: the kernel did not re-read the partition table (%v); it will at the next boot", err)
	}
	say("installed ros %s on %s", orUnknown(o.Version), t.path)
	return nil
}

// saveCloudConfig writes the cloud-config into ROS_STATE.
func saveCloudConfig(t *target, st disk.Partition, data []byte, say func(string, ...any)) error {
	if !canMount() {
		say("not saving the cloud-config: mounting %s needs root", disk.LabelState)
		return nil
	}
	say("saving the cloud-config as /var/%s", CloudConfigFile)
	err := t.withState(st, func(dir string) error {
		path := filepath.Join(dir, filepath.FromSlash(CloudConfigFile))
		if err := os.MkdirAll(filepath.Dir(filepath.Dir(path)), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		return writeFileSync(path, data, 0o600)
	})
	if err != nil {
		return fmt.Errorf("save cloud-config: %w", err)
	}
	return nil
}

// envBlock returns the grubenv block of a fresh install (both copies).
func envBlock(cmdline, version string) ([]byte, error) {
	env, err := disk.NewEnv(disk.SlotEnv{Written: true, Cmdline: cmdline, Version: version}, disk.SlotEnv{})
	if err != nil {
		return nil, fmt.Errorf("grubenv: %w", err)
	}
	b, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("grubenv (command line too long?): %w", err)
	}
	return b, nil
}

type payloadInfo struct {
	size             int64
	version, cmdline string
}

// openPayload checks the payload (a squashfs GRUB can read, with a
// kernel, an initrd and a command line) and reads its version and arch.
func openPayload(o Options, kit *disk.Kit) (payloadInfo, error) {
	p, err := payload.Open(o.Payload)
	if err != nil {
		return payloadInfo{}, err
	}
	defer p.Close()
	info := payloadInfo{size: p.Size, cmdline: p.Cmdline}
	if b, err := p.ReadFile(versionFile); err == nil {
		info.version = strings.TrimSpace(string(b))
	}
	if b, err := p.ReadFile(archFile); err == nil {
		if arch := strings.TrimSpace(string(b)); arch != kit.Arch {
			return payloadInfo{}, fmt.Errorf("%w: %s is for %s, the kit for %s", ErrArch, o.Payload, arch, kit.Arch)
		}
	}
	return info, nil
}

func orUnknown(v string) string {
	if v == "" {
		return "(version unknown)"
	}
	return v
}
