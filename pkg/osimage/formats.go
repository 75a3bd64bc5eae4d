package osimage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/diskformat"
	"github.com/ros-os/ros/pkg/iso"
)

// Options tune the boot formats.
type Options struct {
	SlotSize  int64 // size of each A/B slot; default disk.DefaultSlotSize
	StateSize int64 // size of ROS_STATE in the image; grown on first boot
	// CacheDir keeps payloads by the hash of their tree, so an unchanged OS
	// is not compressed again; "" builds every time.
	CacheDir string
	Logger   *slog.Logger
	// PayloadOutputs are more formats made from the payload alone (the
	// upgrade bundle): format name -> writer of base + its suffix.
	PayloadOutputs map[string]PayloadOutput
}

// PayloadOutput writes one output from a built payload.
type PayloadOutput func(ctx context.Context, p *Payload, base string) error

// Formats adds ros's boot formats to a table of outputs. The payload is
// built once per output name and shared by every format of one build; call
// the returned cleanup when the build is over.
//
//	iso, iso-efi, iso-bios     NAME.iso, NAME-efi.iso, NAME-bios.iso: the hybrid
//	                           live ISO (every one boots BIOS and UEFI, CD and USB)
//	raw, raw-efi, raw-bios     NAME.raw, NAME-efi.raw, NAME-bios.raw: the A/B GPT
//	                           disk (raw boots both firmwares; -efi/-bios only one)
//	qcow2, qcow2-efi, qcow2-bios, vmdk, vhd
//	                           the raw disk converted by qemu-img
//	kernel+initrd              for a ros tree: NAME-kernel, NAME-cmdline and
//	                           NAME-initrd.img, the stage-1 initramfs with the
//	                           payload inside (PXE); other trees keep LinuxKit's
func Formats(outs assemble.Outputs, o Options) (cleanup func()) {
	b := &builder{opts: o, payloads: map[string]*Payload{}}
	disks := []struct {
		name   string
		suffix string
		noBIOS bool
		noEFI  bool
		conv   string
	}{
		{"raw", "", false, false, ""},
		{"raw-efi", "-efi", true, false, ""},
		{"raw-bios", "-bios", false, true, ""},
		{"qcow2", "", false, false, "qcow2"},
		{"qcow2-efi", "-efi", true, false, "qcow2"},
		{"qcow2-bios", "-bios", false, true, "qcow2"},
		{"vmdk", "", false, false, "vmdk"},
		{"vhd", "", false, false, "vhd"},
	}
	for _, d := range disks {
		outs[d.name] = func(ctx context.Context, base string, tree io.Reader, oo assemble.OutputOptions) error {
			return b.writeDisk(ctx, base+d.suffix, d.noBIOS, d.noEFI, d.conv, base, tree, oo)
		}
	}
	for name, suffix := range map[string]string{"iso": "", "iso-efi": "-efi", "iso-bios": "-bios"} {
		outs[name] = func(ctx context.Context, base string, tree io.Reader, oo assemble.OutputOptions) error {
			p, err := b.payload(ctx, base, tree, oo)
			if err != nil {
				return err
			}
			return iso.Write(ctx, iso.Options{Payload: p.Squashfs, Out: base + suffix + ".iso"})
		}
	}
	for name, write := range o.PayloadOutputs {
		outs[name] = func(ctx context.Context, base string, tree io.Reader, oo assemble.OutputOptions) error {
			p, err := b.payload(ctx, base, tree, oo)
			if err != nil {
				return err
			}
			return write(ctx, p, base)
		}
	}
	linuxkit := outs["kernel+initrd"]
	outs["kernel+initrd"] = func(ctx context.Context, base string, tree io.Reader, oo assemble.OutputOptions) error {
		return b.writePXE(ctx, base, tree, oo, linuxkit)
	}
	return b.cleanup
}

type builder struct {
	opts     Options
	mu       sync.Mutex
	payloads map[string]*Payload // output base -> payload
	dirs     []string
}

func (b *builder) cleanup() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.payloads {
		p.Close()
	}
	for _, d := range b.dirs {
		os.RemoveAll(d)
	}
	b.payloads = map[string]*Payload{}
	b.dirs = nil
}

// payload builds (once per base) the payload of the tree.
func (b *builder) payload(ctx context.Context, base string, tree io.Reader, oo assemble.OutputOptions) (*Payload, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.payloads[base]; ok {
		_, err := io.Copy(io.Discard, tree) // the same tree again: drain it
		return p, err
	}
	dir, err := os.MkdirTemp(oo.TempDir, "ros-image-")
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	b.dirs = append(b.dirs, dir)
	if b.opts.Logger != nil {
		b.opts.Logger.Info("building payload", "name", filepath.Base(base))
	}
	po := PayloadOptions{Compression: oo.Compression, ModTime: oo.ModTime, TempDir: dir}
	var p *Payload
	if b.opts.CacheDir != "" {
		p, err = cachedPayload(ctx, b.opts.CacheDir, dir, tree, po)
	} else {
		p, err = BuildPayload(ctx, tree, filepath.Join(dir, "rootfs.squashfs"), po)
	}
	if err != nil {
		return nil, err
	}
	b.payloads[base] = p
	return p, nil
}

func (b *builder) writeDisk(ctx context.Context, out string, noBIOS, noEFI bool, conv, base string, tree io.Reader, oo assemble.OutputOptions) error {
	p, err := b.payload(ctx, base, tree, oo)
	if err != nil {
		return err
	}
	raw := out + ".raw"
	if conv != "" {
		raw = filepath.Join(filepath.Dir(p.Squashfs), filepath.Base(out)+".raw")
	}
	_, err = disk.Write(ctx, disk.Options{
		Payload: p.Squashfs, Version: p.Version, Out: raw, SlotSize: b.opts.SlotSize, StateSize: b.opts.StateSize,
		NoBIOS: noBIOS, NoEFI: noEFI, Logger: b.opts.Logger,
	})
	if err != nil || conv == "" {
		return err
	}
	defer os.Remove(raw)
	return diskformat.Convert(ctx, raw, out+"."+conv, conv)
}

// writePXE writes a ros tree as kernel + an initramfs carrying the payload,
// and any other tree the LinuxKit way.
func (b *builder) writePXE(ctx context.Context, base string, tree io.Reader, oo assemble.OutputOptions, linuxkit assemble.OutputFunc) error {
	dir, err := os.MkdirTemp(oo.TempDir, "ros-pxe-")
	if err != nil {
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	defer os.RemoveAll(dir)
	spool := filepath.Join(dir, "tree.tar")
	if err := spoolFile(spool, tree); err != nil {
		return fmt.Errorf("kernel+initrd: %w", err)
	}
	f, err := os.Open(spool)
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := b.payload(ctx, base, f, oo)
	if errors.Is(err, ErrNotROS) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		return linuxkit(ctx, base, f, oo)
	}
	if err != nil {
		return err
	}
	return WritePXE(ctx, p, base, oo.ModTime)
}
