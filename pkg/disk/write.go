// Package disk writes a ros A/B disk image: a raw GPT disk that boots on
// BIOS (GRUB core.img in a BIOS boot partition) and UEFI (BOOTX64.EFI on the
// ESP) with one grub.cfg and one grubenv on the ESP, two squashfs payload
// slots and an ext4 state partition. See Layout for the partitions.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	diskfs "github.com/diskfs/go-diskfs"
	diskpkg "github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/partition/part"

	"github.com/ros-os/ros/pkg/disk/payload"
	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// Files on the ESP.
const (
	EFIBootFile = grub.ESPDir + "/BOOTX64.EFI"
	GrubCfgFile = grub.ESPDir + "/grub.cfg"
	GrubEnvFile = grub.ESPDir + "/" + grub.EnvFile
	// GrubEnvBackupFile is the second grubenv copy: written before
	// GrubEnvFile, used when GrubEnvFile is damaged (see pkg/grub).
	GrubEnvBackupFile = grub.ESPDir + "/" + grub.EnvBackupFile
)

// ErrPayloadTooLarge is returned when a payload does not fit its slot.
var ErrPayloadTooLarge = errors.New("payload larger than slot")

// Options describe the disk to write.
type Options struct {
	Payload   string // slot A's payload squashfs (required)
	PayloadB  string // slot B's payload; empty leaves ROS_B blank
	Version   string // OS version of slot A's payload (ros_version_A); "" leaves it unset
	VersionB  string // OS version of slot B's payload
	Out       string // raw image to write (replaced atomically)
	SlotSize  int64  // size of ROS_A and ROS_B; default DefaultSlotSize
	StateSize int64  // size of ROS_STATE; default DefaultStateSize
	EFISize   int64  // size of ROS_EFI; default DefaultEFISize
	NoBIOS    bool   // leave out the BIOS boot code
	NoEFI     bool   // leave out BOOTX64.EFI
	CacheDir  string // GRUB image cache; default $ROS_CACHE or ~/.cache/ros
	Logger    *slog.Logger
}

// Write writes the disk image described by o and returns its layout.
func Write(ctx context.Context, o Options) (*Layout, error) {
	if o.Payload == "" || o.Out == "" {
		return nil, fmt.Errorf("write disk: payload and output are required")
	}
	if o.NoBIOS && o.NoEFI {
		return nil, fmt.Errorf("write disk: neither BIOS nor EFI boot requested")
	}
	if o.SlotSize == 0 {
		o.SlotSize = DefaultSlotSize
	}
	if o.StateSize == 0 {
		o.StateSize = DefaultStateSize
	}
	if o.EFISize == 0 {
		o.EFISize = DefaultEFISize
	}
	if o.CacheDir == "" {
		dir, err := grub.DefaultCacheDir()
		if err != nil {
			return nil, fmt.Errorf("write disk %s: %w", o.Out, err)
		}
		o.CacheDir = dir
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.EFISize < MinEFISize {
		return nil, fmt.Errorf("write disk %s: EFI size %d MiB is below the FAT32 minimum of %d MiB", o.Out, o.EFISize/MiB, MinEFISize/MiB)
	}
	layout, err := NewLayout(o.EFISize, o.SlotSize, o.StateSize)
	if err != nil {
		return nil, fmt.Errorf("write disk %s: %w", o.Out, err)
	}

	slots := map[string]*payload.Payload{}
	for _, s := range []struct{ name, path string }{{"A", o.Payload}, {"B", o.PayloadB}} {
		if s.path == "" {
			continue
		}
		p, err := payload.Open(s.path)
		if err != nil {
			return nil, fmt.Errorf("write disk %s: slot %s: %w", o.Out, s.name, err)
		}
		defer p.Close()
		if p.Size > o.SlotSize {
			return nil, fmt.Errorf("write disk %s: slot %s: %w: %s is %d bytes (%.1f MiB), slot is %d MiB",
				o.Out, s.name, ErrPayloadTooLarge, s.path, p.Size, float64(p.Size)/float64(MiB), o.SlotSize/MiB)
		}
		slots[s.name] = p
	}

	files, err := espFiles(ctx, o, slots)
	if err != nil {
		return nil, fmt.Errorf("write disk %s: %w", o.Out, err)
	}

	tmp := o.Out + ".tmp"
	os.Remove(tmp)
	if err := writeImage(ctx, tmp, layout, o, slots, files, log); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write disk %s: %w", o.Out, err)
	}
	if err := os.Rename(tmp, o.Out); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write disk %s: %w", o.Out, err)
	}
	return layout, nil
}

// SlotEnv is what a new disk's grubenv says about one slot.
type SlotEnv struct {
	Written bool   // the slot holds a payload (state good), else empty
	Cmdline string // the payload's boot/cmdline
	Version string // the payload's OS version; "" leaves ros_version_X unset
}

// NewEnv returns the sealed grubenv a new disk starts with: slot A good, no
// trial, each slot's state, command line and version. Write it to both
// GrubEnvFile and GrubEnvBackupFile.
func NewEnv(a, b SlotEnv) (*grubenv.Env, error) {
	vars := []grubenv.Var{
		{Name: grub.VarGood, Value: "A"},
		{Name: grub.VarTry, Value: ""},
		{Name: grub.VarTries, Value: "0"},
	}
	for _, s := range []struct {
		name string
		SlotEnv
	}{{"A", a}, {"B", b}} {
		state := grub.SlotEmpty
		if s.Written {
			state = grub.SlotGood
		}
		vars = append(vars, grubenv.Var{Name: grub.StateVar(s.name), Value: state})
		if s.Version != "" {
			vars = append(vars, grubenv.Var{Name: grub.VersionVar(s.name), Value: s.Version})
		}
	}
	vars = append(vars,
		grubenv.Var{Name: grub.CmdlineVar("A"), Value: a.Cmdline},
		grubenv.Var{Name: grub.CmdlineVar("B"), Value: b.Cmdline})
	env, err := grubenv.New(vars...)
	if err != nil {
		return nil, err
	}
	if err := grub.Seal(env); err != nil {
		return nil, err
	}
	return env, nil
}

// InitialEnv is NewEnv for slot A written with cmdlineA and slot B written
// with cmdlineB when that is not empty, without versions.
func InitialEnv(cmdlineA, cmdlineB string) (*grubenv.Env, error) {
	return NewEnv(SlotEnv{Written: true, Cmdline: cmdlineA}, SlotEnv{Written: cmdlineB != "", Cmdline: cmdlineB})
}

func espFiles(ctx context.Context, o Options, slots map[string]*payload.Payload) ([]FATFile, error) {
	cfg, err := grub.DiskConfig(grub.DiskOptions{Slots: []grub.Slot{{Name: "A", Partition: PartA}, {Name: "B", Partition: PartB}}})
	if err != nil {
		return nil, err
	}
	a := SlotEnv{Written: true, Cmdline: slots["A"].Cmdline, Version: o.Version}
	var b SlotEnv
	if p := slots["B"]; p != nil {
		b = SlotEnv{Written: true, Cmdline: p.Cmdline, Version: o.VersionB}
	}
	env, err := NewEnv(a, b)
	if err != nil {
		return nil, err
	}
	block, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("grubenv (command lines too long?): %w", err)
	}
	files := []FATFile{{GrubCfgFile, []byte(cfg)}, {GrubEnvFile, block}, {GrubEnvBackupFile, block}}
	if !o.NoEFI {
		img, err := grub.Build(ctx, grub.EFIImage(), o.CacheDir)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(img)
		if err != nil {
			return nil, err
		}
		files = append(files, FATFile{EFIBootFile, b})
	}
	return files, nil
}

func writeImage(ctx context.Context, out string, l *Layout, o Options, slots map[string]*payload.Payload, files []FATFile, log *slog.Logger) error {
	d, err := diskfs.Create(out, l.Size, diskfs.SectorSize(l.SectorSize))
	if err != nil {
		return fmt.Errorf("create image: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	if err := d.Partition(l.gptTable()); err != nil {
		return fmt.Errorf("write GPT: %w", err)
	}
	for _, name := range []string{"A", "B"} {
		p := slots[name]
		if p == nil {
			continue
		}
		part, err := l.Slot(name)
		if err != nil {
			return err
		}
		if err := writeSlot(d, part, p); err != nil {
			return err
		}
		log.Debug("slot written", "slot", name, "payload", p.Path, "bytes", p.Size)
	}
	closed = true
	if err := d.Close(); err != nil {
		return fmt.Errorf("close image: %w", err)
	}

	f, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if !o.NoBIOS {
		if err := writeBIOS(ctx, f, l, o.CacheDir); err != nil {
			return err
		}
	}
	if err := writeESP(ctx, f, l, files); err != nil {
		return err
	}
	if err := writeState(ctx, f, l); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync image: %w", err)
	}
	return f.Close()
}

func writeSlot(d *diskpkg.Disk, slot Partition, p *payload.Payload) error {
	f, err := os.Open(p.Path)
	if err != nil {
		return fmt.Errorf("slot %s: %w", slot.Label, err)
	}
	defer f.Close()
	n, err := d.WritePartitionContents(slot.Number, f)
	// go-diskfs reports a payload smaller than the partition as an
	// incomplete write; the payload was written whole, which is intended.
	var incomplete *part.IncompletePartitionWriteError
	if errors.As(err, &incomplete) && n == p.Size {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("slot %s: write payload: %w", slot.Label, err)
	}
	if n != p.Size {
		return fmt.Errorf("slot %s: wrote %d of %d payload bytes", slot.Label, n, p.Size)
	}
	return nil
}

func writeBIOS(ctx context.Context, f *os.File, l *Layout, cacheDir string) error {
	corePath, err := grub.Build(ctx, grub.BIOSImage(PartEFI), cacheDir)
	if err != nil {
		return err
	}
	core, err := os.ReadFile(corePath)
	if err != nil {
		return fmt.Errorf("read core.img: %w", err)
	}
	bootImg, err := os.ReadFile(grub.BootImg())
	if err != nil {
		return fmt.Errorf("read boot.img (install grub-pc-bin): %w", err)
	}
	part, err := l.Find(LabelBIOS)
	if err != nil {
		return err
	}
	return installBIOS(f, part, core, bootImg)
}

func writeESP(ctx context.Context, f *os.File, l *Layout, files []FATFile) error {
	part, err := l.Find(LabelEFI)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ros-esp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	img, err := makeESP(ctx, dir, part.Size, LabelEFI, files)
	if err != nil {
		return err
	}
	return copyFileSparse(f, part, img)
}

func copyFileSparse(f *os.File, part Partition, img string) error {
	src, err := os.Open(img)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := copySparse(f, part.Start, io.LimitReader(src, part.Size)); err != nil {
		return fmt.Errorf("write %s: %w", part.Label, err)
	}
	return nil
}

func writeState(ctx context.Context, f *os.File, l *Layout) error {
	part, err := l.State()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ros-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	img, err := makeExt4(ctx, dir, LabelState, part.Size)
	if err != nil {
		return err
	}
	return copyFileSparse(f, part, img)
}
