package disk

// The install kit: the pieces of a ros disk that need host tools to make
// (grub-mkimage, mkfs.fat, mtools, mkfs.ext4), made at build time so that
// `ros install` on a machine with none of them can lay out a disk by
// writing bytes. The live ISO carries it in /ros/install.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/ros-os/ros/pkg/grub"
	"github.com/ros-os/ros/pkg/grubenv"
)

// Files of a kit directory.
const (
	KitManifest = "kit.json"      // the Kit, JSON
	KitBootImg  = "boot.img"      // GRUB i386-pc boot.img (MBR boot code, 512 bytes)
	KitCoreImg  = "core.img"      // GRUB i386-pc core.img for the BIOS boot partition
	KitESP      = "esp.img.gz"    // the ROS_EFI partition image, gzip
	KitState    = "state.ext4.gz" // the ROS_STATE ext4 template, gzip
)

// KitFormat is the version of the kit layout WriteKit writes.
const KitFormat = 1

// KitArch is the architecture of a kit's boot code (GRUB i386-pc and
// x86_64-efi), as a GOARCH name.
const KitArch = "amd64"

// DefaultKitStateSize is the size of the ROS_STATE template: big enough
// for a 32 MiB journal, small once compressed. The init grows it to fill
// its partition on first boot.
const DefaultKitStateSize = 128 * MiB

// ErrKit is returned for a kit directory that is incomplete or damaged.
var ErrKit = errors.New("bad install kit")

// KitFile is one file of a kit.
type KitFile struct {
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	ImageSize int64  `json:"imageSize,omitempty"` // uncompressed size of a .gz image
}

// Kit describes a kit directory (its kit.json).
type Kit struct {
	Format    int    `json:"format"`
	Arch      string `json:"arch"`      // GOARCH the boot code is for (KitArch)
	Grub      string `json:"grub"`      // grub-mkimage --version
	EFISize   int64  `json:"efiSize"`   // size of the ESP image = the ROS_EFI partition
	StateSize int64  `json:"stateSize"` // size of the ROS_STATE template (the smallest ROS_STATE)
	// EnvOffsets gives, for each grubenv file on the ESP (GrubEnvFile and
	// its backup), the byte offset of its 1024-byte block inside the ESP
	// image, so an installer can write the real environment in place.
	EnvOffsets map[string]int64 `json:"envOffsets"`
	Files      []KitFile        `json:"files"`

	Dir string `json:"-"` // where the kit was read from
}

// KitOptions parameterise WriteKit.
type KitOptions struct {
	CacheDir  string // GRUB image cache; default $ROS_CACHE or ~/.cache/ros
	EFISize   int64  // default DefaultEFISize
	StateSize int64  // default DefaultKitStateSize
}

// WriteKit writes an install kit into dir (created if needed) and returns
// its description. The ESP image holds BOOTX64.EFI, grub.cfg (DiskConfig
// for the standard layout) and both grubenv copies; their blocks are
// placeholders an installer overwrites at Kit.EnvOffsets.
func WriteKit(ctx context.Context, dir string, o KitOptions) (*Kit, error) {
	if o.EFISize == 0 {
		o.EFISize = DefaultEFISize
	}
	if o.StateSize == 0 {
		o.StateSize = DefaultKitStateSize
	}
	if o.EFISize < MinEFISize || o.EFISize%MiB != 0 {
		return nil, fmt.Errorf("write kit: EFI size %d: want a whole number of MiB, at least %d MiB", o.EFISize, MinEFISize/MiB)
	}
	if o.StateSize < 64*MiB || o.StateSize%MiB != 0 {
		return nil, fmt.Errorf("write kit: state size %d: want a whole number of MiB, at least 64 MiB", o.StateSize)
	}
	if o.CacheDir == "" {
		d, err := grub.DefaultCacheDir()
		if err != nil {
			return nil, fmt.Errorf("write kit: %w", err)
		}
		o.CacheDir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write kit: %w", err)
	}
	tmp, err := os.MkdirTemp("", "ros-kit-")
	if err != nil {
		return nil, fmt.Errorf("write kit: %w", err)
	}
	defer os.RemoveAll(tmp)

	k := &Kit{Format: KitFormat, Arch: KitArch, EFISize: o.EFISize, StateSize: o.StateSize, Dir: dir}
	ver, err := exec.CommandContext(ctx, "grub-mkimage", "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("write kit: grub-mkimage --version: %w", err)
	}
	k.Grub = strings.TrimSpace(string(ver))

	// BIOS boot code, patched at install time for the real layout.
	core, err := grub.Build(ctx, grub.BIOSImage(PartEFI), o.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("write kit: %w", err)
	}
	for name, src := range map[string]string{KitCoreImg: core, KitBootImg: grub.BootImg()} {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("write kit: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil { //nolint:gosec // G703: name is one of two fixed kit file names
			return nil, fmt.Errorf("write kit: %w", err)
		}
	}

	esp, offsets, err := kitESP(ctx, tmp, o)
	if err != nil {
		return nil, fmt.Errorf("write kit: ESP: %w", err)
	}
	k.EnvOffsets = offsets
	if err := gzipFile(esp, filepath.Join(dir, KitESP)); err != nil {
		return nil, fmt.Errorf("write kit: ESP: %w", err)
	}
	state, err := kitState(ctx, tmp, o.StateSize)
	if err != nil {
		return nil, fmt.Errorf("write kit: state: %w", err)
	}
	if err := gzipFile(state, filepath.Join(dir, KitState)); err != nil {
		return nil, fmt.Errorf("write kit: state: %w", err)
	}

	for _, name := range []string{KitBootImg, KitCoreImg, KitESP, KitState} {
		f := KitFile{Name: name}
		if f.Size, f.SHA256, err = hashFile(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("write kit: %w", err)
		}
		switch name {
		case KitESP:
			f.ImageSize = o.EFISize
		case KitState:
			f.ImageSize = o.StateSize
		}
		k.Files = append(k.Files, f)
	}
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write kit: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, KitManifest), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write kit: %w", err)
	}
	return k, nil
}

// kitESP makes the ESP image with placeholder grubenv blocks and returns
// its path and where those blocks are inside it.
func kitESP(ctx context.Context, dir string, o KitOptions) (string, map[string]int64, error) {
	cfg, err := grub.DiskConfig(grub.DiskOptions{Slots: []grub.Slot{{Name: "A", Partition: PartA}, {Name: "B", Partition: PartB}}})
	if err != nil {
		return "", nil, err
	}
	efiPath, err := grub.Build(ctx, grub.EFIImage(), o.CacheDir)
	if err != nil {
		return "", nil, err
	}
	efi, err := os.ReadFile(efiPath)
	if err != nil {
		return "", nil, err
	}
	files := []FATFile{{EFIBootFile, efi}, {GrubCfgFile, []byte(cfg)}}
	blocks := map[string][]byte{}
	for _, name := range []string{GrubEnvFile, GrubEnvBackupFile} {
		// A valid environment (slot A good) that names its file, so each
		// placeholder block is unique in the image.
		env, err := grubenv.New(grubenv.Var{Name: grub.VarGood, Value: "A"}, grubenv.Var{Name: "ros_kit_placeholder", Value: name})
		if err != nil {
			return "", nil, err
		}
		b, err := env.Marshal()
		if err != nil {
			return "", nil, err
		}
		blocks[name] = b
		files = append(files, FATFile{name, b})
	}
	img, err := makeESP(ctx, dir, o.EFISize, LabelEFI, files)
	if err != nil {
		return "", nil, err
	}
	data, err := os.ReadFile(img)
	if err != nil {
		return "", nil, err
	}
	offsets := map[string]int64{}
	for name, b := range blocks {
		i := bytes.Index(data, b)
		if i < 0 || bytes.Contains(data[i+1:], b) {
			return "", nil, fmt.Errorf("%s is not one contiguous block in the ESP image", name)
		}
		offsets[name] = int64(i)
	}
	return img, offsets, nil
}

// kitState makes the ROS_STATE template: 4 KiB blocks and the default
// inode ratio (what a big partition would get, not mkfs's "small" type the
// template size would pick), with reserved GDT blocks for online growth to
// 2^32 blocks (16 TiB).
func kitState(ctx context.Context, dir string, size int64) (string, error) {
	img := filepath.Join(dir, "state.ext4")
	f, err := os.Create(img)
	if err != nil {
		return "", err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	args := []string{"-q", "-F", "-T", "default", "-b", "4096", "-L", LabelState, "-m", "0", "-J", "size=32",
		"-E", "nodiscard,root_owner=0:0,resize=4294967295", img}
	if out, err := exec.CommandContext(ctx, "mkfs.ext4", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mkfs.ext4 %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return img, nil
}

// ReadKit reads dir's kit.json and checks every file against it (size and
// sha256). Errors wrap ErrKit.
func ReadKit(dir string) (*Kit, error) {
	b, err := os.ReadFile(filepath.Join(dir, KitManifest))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKit, err)
	}
	var k Kit
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKit, filepath.Join(dir, KitManifest), err)
	}
	k.Dir = dir
	if k.Format != KitFormat {
		return nil, fmt.Errorf("%w: %s: format %d, this ros reads format %d", ErrKit, dir, k.Format, KitFormat)
	}
	if k.EFISize < MinEFISize || k.StateSize < 8*MiB || k.EFISize%MiB != 0 || k.StateSize%MiB != 0 {
		return nil, fmt.Errorf("%w: %s: bad sizes (EFI %d, state %d)", ErrKit, dir, k.EFISize, k.StateSize)
	}
	for _, name := range []string{GrubEnvFile, GrubEnvBackupFile} {
		off, ok := k.EnvOffsets[name]
		if !ok || off < 0 || off+grubenv.Size > k.EFISize {
			return nil, fmt.Errorf("%w: %s: no usable offset for %s", ErrKit, dir, name)
		}
	}
	for _, name := range []string{KitBootImg, KitCoreImg, KitESP, KitState} {
		f, err := k.File(name)
		if err != nil {
			return nil, err
		}
		size, sum, err := hashFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKit, err)
		}
		if size != f.Size || sum != f.SHA256 {
			return nil, fmt.Errorf("%w: %s is %d bytes with sha256 %s, kit.json says %d bytes, %s", ErrKit, filepath.Join(dir, name), size, sum, f.Size, f.SHA256)
		}
	}
	return &k, nil
}

// File returns the entry for name.
func (k *Kit) File(name string) (KitFile, error) {
	for _, f := range k.Files {
		if f.Name == name {
			return f, nil
		}
	}
	return KitFile{}, fmt.Errorf("%w: %s lacks %s", ErrKit, k.Dir, name)
}

// Path returns the path of the kit file name.
func (k *Kit) Path(name string) string { return filepath.Join(k.Dir, name) }

// EnvFiles returns the ESP paths of the grubenv copies a kit's ESP holds:
// the primary, then the backup.
func (k *Kit) EnvFiles() []string { return []string{GrubEnvFile, GrubEnvBackupFile} }

// Size returns the total size of the kit's files.
func (k *Kit) Size() int64 {
	var n int64
	for _, f := range k.Files {
		n += f.Size
	}
	return n
}

// GPT returns the layout as a go-diskfs GPT table (protective MBR on), for
// writers of real devices.
func (l *Layout) GPT() *gpt.Table { return l.gptTable() }

// InstallBIOS writes GRUB's core.img into l's BIOS boot partition and
// boot.img into the MBR of f (which must already hold the protective MBR),
// as Write does.
func InstallBIOS(f *os.File, l *Layout, core, bootImg []byte) error {
	part, err := l.Find(LabelBIOS)
	if err != nil {
		return err
	}
	return installBIOS(f, part, core, bootImg)
}

func gzipFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return fmt.Errorf("compress %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return fmt.Errorf("compress %s: %w", src, err)
	}
	return out.Close()
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
