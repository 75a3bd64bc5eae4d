// Package osimage turns an assembled ros tree into what boots: the payload
// (a small squashfs GRUB reads the kernel, the stage-1 initramfs and the
// command line from, followed by the root filesystem as a squashfs of its
// own; see package layout) and the formats made from it (hybrid ISO, A/B
// disk images, PXE kernel+initrd).
package osimage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/disk/payload"
	"github.com/ros-os/ros/pkg/disk/payload/layout"
	"github.com/ros-os/ros/pkg/initramfs"
	"github.com/ros-os/ros/pkg/squashfs"
)

// Paths inside a ros tree.
const (
	StageOnePath = "usr/lib/ros/initrd-init" // the stage-1 program (ros/init image)
	KernelPath   = "boot/kernel"
	CmdlinePath  = "boot/cmdline"
	InitrdPath   = "boot/initrd"
	VersionPath  = "usr/lib/ros/version" // the OS version (ros build --os-version)
	modulesDir   = "lib/modules/"
)

// ErrNotROS is returned for a tree that lacks the stage-1 program: a boot
// format needs ros/init (or an image with usr/lib/ros/initrd-init) in init.
var ErrNotROS = errors.New("not a ros tree: no " + StageOnePath + " (put ros/init in the init section)")

// PayloadOptions tune BuildPayload.
type PayloadOptions struct {
	Compression string    // root squashfs compressor: one of payload.Compressions ("" = zstd)
	ModTime     time.Time // every generated entry's time (SOURCE_DATE_EPOCH)
	TempDir     string    // where the kernel and modules are staged
	// Modules for the stage-1 initramfs; nil means initramfs.DefaultModules.
	Modules []string
}

// Payload is a built payload and the boot files found on the way.
type Payload struct {
	Squashfs string // the payload
	Kernel   string // a copy of boot/kernel
	Initrd   string // the stage-1 initramfs (also at boot/initrd in the payload)
	Cmdline  string // boot/cmdline, trimmed
	Version  string // usr/lib/ros/version, trimmed ("" when the tree has none)
	dir      string
	// cmdlineFile is the staged boot/cmdline, copied into the boot part
	// byte for byte.
	cmdlineFile string
}

// Close removes the staged kernel and initramfs (not the payload). A
// payload from the cache has nothing staged.
func (p *Payload) Close() error {
	if p.dir == "" {
		return nil
	}
	return os.RemoveAll(p.dir)
}

// BuildPayload reads an assembled tree (the tar stream assemble.Build
// writes) and writes the payload to out. The tree streams straight into
// mksquashfs as the root part, without boot/kernel, boot/cmdline and
// boot/initrd; on the way it keeps the kernel, the command line, the
// stage-1 program and the kernel modules, builds the stage-1 initramfs from
// them, and writes those three files as the boot part in front of the root.
func BuildPayload(ctx context.Context, tree io.Reader, out string, opts PayloadOptions) (*Payload, error) {
	if err := payload.CheckCompression(compression(opts.Compression)); err != nil {
		return nil, fmt.Errorf("build payload: %w", err)
	}
	dir, err := os.MkdirTemp(opts.TempDir, "ros-payload-")
	if err != nil {
		return nil, fmt.Errorf("build payload: %w", err)
	}
	p := &Payload{Squashfs: out, dir: dir}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()

	root := filepath.Join(dir, "root.squashfs")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := squashfs.FromTar(ctx, pr, root, rootOptions(opts))
		pr.CloseWithError(err) // unblock the writer if mksquashfs stopped early
		done <- err
	}()
	werr := p.copyTree(ctx, tree, pw, opts)
	pw.CloseWithError(werr)
	serr := <-done
	if werr != nil {
		return nil, fmt.Errorf("build payload: %w", werr)
	}
	if serr != nil {
		return nil, fmt.Errorf("build payload: %w", serr)
	}
	boot := filepath.Join(dir, "boot.squashfs")
	if err := p.buildBoot(ctx, boot, opts); err != nil {
		return nil, fmt.Errorf("build payload: %w", err)
	}
	if err := joinParts(out, boot, root); err != nil {
		return nil, fmt.Errorf("build payload: %w", err)
	}
	os.Remove(root)
	ok = true
	return p, nil
}

// Squashfs settings of a zstd root part. Level 19 in 1 MiB blocks makes
// the payload of yml/ros.yml 2.6% bigger than xz in 128 KiB blocks (54.8
// against 53.4 MB), and decompresses several times faster: from squashfs
// ready to services ready took 8.1 s instead of 13.4 s under TCG. Blocks
// of 512 KiB or less cost 1 to 2 MB more. Without fragments (0.3 MB more)
// Linux allocates no fragment cache: with it, three 1 MiB blocks of kernel
// memory for as long as the root is mounted.
const (
	zstdLevel     = 19
	zstdBlockSize = 1 << 20
)

func rootOptions(opts PayloadOptions) squashfs.Options {
	o := squashfs.Options{Compression: compression(opts.Compression), Epoch: opts.ModTime.Unix()}
	if o.Compression == "zstd" {
		o.Level, o.BlockSize, o.NoFragments = zstdLevel, zstdBlockSize, true
	}
	return o
}

// bootCompression is the boot part's: GRUB reads it, and the kernel and
// the initramfs are compressed already, so their blocks are stored as they
// are and only the few metadata blocks are gzip.
const bootCompression = "gzip"

// buildBoot writes the boot part: boot/kernel, boot/initrd and
// boot/cmdline, owned by root, at opts.ModTime.
func (p *Payload) buildBoot(ctx context.Context, out string, opts PayloadOptions) error {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeBootTar(pw, p, opts.ModTime))
	}()
	err := squashfs.FromTar(ctx, pr, out, squashfs.Options{Compression: bootCompression, Epoch: opts.ModTime.Unix()})
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("boot part: %w", err)
	}
	return nil
}

func writeBootTar(w io.Writer, p *Payload, mtime time.Time) error {
	tw := tar.NewWriter(w)
	dir := &tar.Header{Name: "boot/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime, Format: tar.FormatPAX}
	if err := tw.WriteHeader(dir); err != nil {
		return err
	}
	files := [][2]string{{KernelPath, p.Kernel}, {InitrdPath, p.Initrd}, {CmdlinePath, p.cmdlineFile}}
	for _, f := range files {
		name := f[0]
		data, err := os.ReadFile(f[1])
		if errors.Is(err, os.ErrNotExist) && name == CmdlinePath {
			continue // the tree has none
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return tw.Close()
}

// joinParts writes the boot part, then the root part, to out.
func joinParts(out, boot, root string) error {
	b, err := os.Open(boot)
	if err != nil {
		return err
	}
	defer b.Close()
	r, err := os.Open(root)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := layout.Write(f, b, r); err != nil {
		f.Close()
		os.Remove(out)
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(out)
		return err
	}
	return nil
}

func compression(c string) string {
	if c == "" {
		return "zstd"
	}
	return c
}

// copyTree copies tree to w entry by entry, except the files of the boot
// part, stages those and what the initramfs needs, builds the initramfs,
// and closes the tar.
func (p *Payload) copyTree(ctx context.Context, tree io.Reader, w io.Writer, opts PayloadOptions) error {
	tr := tar.NewReader(tree)
	tw := tar.NewWriter(w)
	staged := filepath.Join(p.dir, "tree")
	var stageOne, modules bool
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tree: %w", err)
		}
		name := strings.TrimPrefix(path.Clean(hdr.Name), "./")
		if name == InitrdPath {
			continue // replaced by the one built here
		}
		bootFile := name == KernelPath || name == CmdlinePath
		var dst io.Writer = tw
		if bootFile {
			dst = io.Discard // staged for the boot part only
		} else if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		keep := bootFile || name == StageOnePath || name == VersionPath || strings.HasPrefix(name, modulesDir)
		if !keep || (hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeDir) {
			if _, err := io.Copy(dst, tr); err != nil { //nolint:gosec // G110: tar.Reader stops at each entry's size; the tree comes from the local image store the build trusts
				return fmt.Errorf("copy %s: %w", name, err)
			}
			continue
		}
		if err := stage(filepath.Join(staged, name), hdr, io.TeeReader(tr, dst)); err != nil {
			return err
		}
		stageOne = stageOne || name == StageOnePath
		modules = modules || strings.HasPrefix(name, modulesDir)
	}
	if !stageOne {
		return ErrNotROS
	}
	p.Kernel = filepath.Join(staged, KernelPath)
	if _, err := os.Stat(p.Kernel); err != nil {
		return fmt.Errorf("tree has no %s: %w", KernelPath, err)
	}
	p.cmdlineFile = filepath.Join(staged, CmdlinePath)
	if b, err := os.ReadFile(p.cmdlineFile); err == nil {
		p.Cmdline = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(filepath.Join(staged, VersionPath)); err == nil {
		p.Version = strings.TrimSpace(string(b))
	}
	var modDir string
	if modules {
		m, _ := filepath.Glob(filepath.Join(staged, modulesDir, "*", "modules.dep"))
		if len(m) != 1 {
			return fmt.Errorf("tree has kernel modules but %d modules.dep files under %s", len(m), modulesDir)
		}
		modDir = filepath.Dir(m[0])
	}
	var initrd bytes.Buffer
	err := initramfs.Build(ctx, &initrd, initramfs.Options{
		Init:       filepath.Join(staged, StageOnePath),
		ModulesDir: modDir,
		Modules:    opts.Modules,
		ModTime:    opts.ModTime,
	})
	if err != nil {
		return err
	}
	p.Initrd = filepath.Join(p.dir, "initrd")
	if err := os.WriteFile(p.Initrd, initrd.Bytes(), 0o644); err != nil {
		return fmt.Errorf("stage initrd: %w", err)
	}
	return tw.Close()
}

// stage writes one tar entry below the staging folder.
func stage(dst string, hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(dst, 0o755)
	case tar.TypeSymlink:
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		os.Remove(dst)
		return os.Symlink(hdr.Linkname, dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("stage %s: %w", hdr.Name, err)
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("stage %s: %w", hdr.Name, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("stage %s: %w", hdr.Name, err)
	}
	return f.Close()
}
