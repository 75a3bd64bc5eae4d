package assemble

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/ros-os/ros/pkg/buildfile"
)

// kernelParts are the files taken from the kernel image, spooled to
// temporary files so they can be written in a fixed order.
type kernelParts struct {
	kernel, ktar, ucode *os.File
	kernelMode          int64
	ucodeMode           int64
}

func (k *kernelParts) close() {
	for _, f := range []*os.File{k.kernel, k.ktar, k.ucode} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// kernelNames returns the names of the kernel binary, the kernel tar ("" for
// none) and the microcode archive ("" for none) in the kernel image, with
// LinuxKit's defaults: kernel, kernel.tar, no microcode.
func kernelNames(k buildfile.Kernel) (bin, ktar, ucode string) {
	bin, ktar = "kernel", "kernel.tar"
	if k.Binary != "" {
		bin = k.Binary
	}
	if k.Tar != nil {
		ktar = *k.Tar
		if ktar == "none" {
			ktar = ""
		}
	}
	if k.UCode != nil {
		ucode = *k.UCode
	}
	return cleanName(bin), cleanName(ktar), cleanName(ucode)
}

// extractKernel reads the kernel image's filesystem and spools the parts.
func (b *builder) extractKernel(img v1.Image) (*kernelParts, error) {
	bin, ktar, ucode := kernelNames(b.cfg.Kernel)
	parts := &kernelParts{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	spool := func(r io.Reader) (*os.File, error) {
		f, err := os.CreateTemp(b.opts.TempDir, "ros-kernel-*")
		if err != nil {
			return nil, fmt.Errorf("spool kernel part: %w", err)
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("spool kernel part: %w", err)
		}
		return f, nil
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			parts.close()
			return nil, fmt.Errorf("read kernel image: %w", err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != typeRegA {
			continue
		}
		var dst **os.File
		switch cleanName(h.Name) {
		case bin:
			dst = &parts.kernel
			parts.kernelMode = h.Mode & 0o7777
		case ktar:
			dst = &parts.ktar
		case ucode:
			dst = &parts.ucode
			parts.ucodeMode = h.Mode & 0o7777
		default:
			continue
		}
		if *dst != nil {
			parts.close()
			return nil, fmt.Errorf("%s appears twice in the kernel image", h.Name)
		}
		f, err := spool(tr)
		if err != nil {
			parts.close()
			return nil, err
		}
		*dst = f
	}
	var missing []string
	if parts.kernel == nil {
		missing = append(missing, "kernel binary /"+bin)
	}
	if ktar != "" && parts.ktar == nil {
		missing = append(missing, "kernel tar /"+ktar)
	}
	if ucode != "" && parts.ucode == nil {
		missing = append(missing, "microcode /"+ucode)
	}
	if missing != nil {
		parts.close()
		return nil, fmt.Errorf("%s: %w", strings.Join(missing, ", "), ErrKernelFile)
	}
	return parts, nil
}

// writeBoot writes boot/, boot/cmdline, boot/kernel and boot/ucode.cpio.
func (b *builder) writeBoot(parts *kernelParts) error {
	t := b.t
	if err := t.dir("boot", 0o755, 0, 0); err != nil {
		return err
	}
	if err := t.file("boot/cmdline", 0o644, 0, 0, []byte(b.cfg.Kernel.Cmdline)); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		f    *os.File
		mode int64
	}{{"boot/kernel", parts.kernel, parts.kernelMode}, {"boot/ucode.cpio", parts.ucode, parts.ucodeMode}} {
		if p.f == nil {
			continue
		}
		fi, err := p.f.Stat()
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if _, err := p.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if _, err := t.writeHeader(&tar.Header{Name: p.name, Typeflag: tar.TypeReg, Mode: p.mode,
			Size: fi.Size(), ModTime: b.opts.ModTime}); err != nil {
			return err
		}
		if err := t.copyData(p.f); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// writeRoot writes the kernel section, then the kernel tar and the init
// images merged at / (later images over earlier ones).
func (b *builder) writeRoot(ctx context.Context) error {
	var extra []layerOpener
	if b.cfg.Kernel.Image != "" {
		pos := b.cfg.Kernel.Pos()
		img, err := b.image(ctx, b.cfg.Kernel.Image)
		if err != nil {
			return entryErr(pos, "kernel", err)
		}
		parts, err := b.extractKernel(img)
		if err != nil {
			return entryErr(pos, "kernel", fmt.Errorf("image %s: %w", b.cfg.Kernel.Image, err))
		}
		defer parts.close()
		if err := b.writeBoot(parts); err != nil {
			return entryErr(pos, "kernel", err)
		}
		if parts.ktar != nil {
			f := parts.ktar
			extra = append(extra, func() (io.ReadCloser, error) {
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return nil, err
				}
				return io.NopCloser(f), nil
			})
		}
	}
	var imgs []v1.Image
	for i, ref := range b.cfg.Init {
		img, err := b.image(ctx, ref)
		if err != nil {
			return entryErr(b.cfg.InitPos(i), fmt.Sprintf("init[%d]", i), err)
		}
		imgs = append(imgs, img)
	}
	if len(imgs) == 0 && len(extra) == 0 {
		return nil
	}
	if err := writeImages(ctx, b.t, imgs, extra, "", initResolvConf, b.opts.ModTime, b.override); err != nil {
		return entryErr(b.cfg.InitPos(0), "init", err)
	}
	return nil
}
