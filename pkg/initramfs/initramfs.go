// Package initramfs builds the stage-1 initramfs of ros: a zstd-compressed
// newc cpio holding /init (the ros-initrd program), the kernel modules needed
// to find and mount the root with their depmod index files, and optionally an
// uncompressed second archive holding /rootfs.squashfs (PXE boots). The
// output is reproducible: members are sorted, owned by root, and stamped
// with one fixed time.
package initramfs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/cpio"
	"github.com/ros-os/ros/pkg/kmod"
)

// DefaultModules are the modules (with their dependencies) stage 1 loads by
// name whatever the hardware: the squashfs/overlay/ext4/vfat/isofs
// filesystems and the loop device, which no device asks for. crc32c_generic
// is the provider ext4 and jbd2 ask for through a soft dependency.
var DefaultModules = []string{
	"squashfs", "overlay", "isofs", "loop", "ext4", "vfat", "nls_cp437", "nls_iso8859_1", "crc32c_generic",
}

// DefaultDrivers are the drivers (with their dependencies) the initramfs
// carries for root disks and CDs on virtio, SATA, IDE (QEMU's CD-ROM), NVMe
// and USB. Stage 1 loads one only when coldplug finds its device: a driver
// for absent hardware costs memory for as long as the machine runs.
var DefaultDrivers = []string{
	"virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "sr_mod", "ahci", "ata_piix", "nvme",
	"usb-storage", "uas", "xhci_pci", "ehci_pci",
}

// ModuleListPath is where the archive lists the modules stage 1 loads by
// name, one per line (the Options.Modules given to Build).
const ModuleListPath = "etc/ros-initrd/modules"

// RootfsPath is the archive path of an embedded root filesystem.
const RootfsPath = "rootfs.squashfs"

// Options say what goes into the initramfs.
type Options struct {
	// Init is the path of the stage-1 program; InitData its content instead.
	Init     string
	InitData []byte
	// ModulesDir is a lib/modules/<version> directory indexed by depmod.
	// Empty means a kernel with everything built in: no modules are added.
	ModulesDir string
	// Modules are the module names or aliases to include and load at boot
	// (dependencies and soft dependencies are added). Nil means
	// DefaultModules.
	Modules []string
	// Drivers are included too, but loaded only for a device present (by
	// modalias). Nil means DefaultDrivers.
	Drivers []string
	// RootfsSquashfs, when set, is appended as /rootfs.squashfs.
	RootfsSquashfs string
	// ModTime stamps every member; the zero value means the Unix epoch.
	ModTime time.Time
}

// ErrNoInit means neither Options.Init nor Options.InitData was given.
var ErrNoInit = errors.New("initramfs: no init program")

// member is one entry of the archive, gathered before writing so that the
// output can be sorted.
type member struct {
	mode      uint32
	data      []byte // regular files held in memory
	file      string // or copied from this path
	size      int64
	rdevMajor uint32
	rdevMinor uint32
}

type tree map[string]*member

func (t tree) dir(p string) {
	for p != "." && p != "/" && p != "" {
		if _, ok := t[p]; !ok {
			t[p] = &member{mode: cpio.TypeDir | 0o755}
		}
		p = path.Dir(p)
	}
}

func (t tree) add(p string, m *member) {
	t.dir(path.Dir(p))
	t[p] = m
}

func (t tree) addBytes(p string, perm uint32, data []byte) {
	t.add(p, &member{mode: cpio.TypeReg | perm, data: data, size: int64(len(data))})
}

func (t tree) addFile(p string, perm uint32, file string) error {
	fi, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("add %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("add %s: %s is not a regular file", p, file)
	}
	t.add(p, &member{mode: cpio.TypeReg | perm, file: file, size: fi.Size()})
	return nil
}

// Build writes the initramfs described by opt to w.
func Build(ctx context.Context, w io.Writer, opt Options) error {
	t := tree{}
	switch {
	case opt.InitData != nil:
		t.addBytes("init", 0o755, opt.InitData)
	case opt.Init != "":
		if err := t.addFile("init", 0o755, opt.Init); err != nil {
			return fmt.Errorf("build initramfs: %w", err)
		}
	default:
		return ErrNoInit
	}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "root"} {
		t.dir(d)
	}
	t["dev/console"] = &member{mode: cpio.TypeChar | 0o600, rdevMajor: 5, rdevMinor: 1}
	if opt.ModulesDir != "" {
		if err := addModules(t, opt); err != nil {
			return fmt.Errorf("build initramfs: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cw := &countingWriter{w: w}
	if err := compress(ctx, cw, func(zw io.Writer) error { return writeTree(ctx, cpio.NewWriter(zw), t, opt.ModTime) }); err != nil {
		return fmt.Errorf("build initramfs: %w", err)
	}
	if opt.RootfsSquashfs == "" {
		return nil
	}
	return AppendRootfs(ctx, cw, cw.n, opt.RootfsSquashfs, opt.ModTime)
}

// compress runs Debian's zstd at level 19 between write and w: 21% smaller
// than gzip -9 for the initramfs of yml/ros.yml (2.8 against 3.6 MB, which
// the ISO carries), and Linux unpacks it faster. One thread: the output does
// not depend on the machine.
func compress(ctx context.Context, w io.Writer, write func(io.Writer) error) error {
	cmd := exec.CommandContext(ctx, "zstd", "-19", "-T1", "-q", "-c")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("zstd: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("zstd (install zstd): %w", err)
	}
	werr := write(in)
	in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("zstd: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return werr
}

// AppendRootfs writes squashfs as /rootfs.squashfs in a second, uncompressed
// archive after an initramfs of n bytes already written to w. The kernel
// reads concatenated archives; an uncompressed one must start on a
// four-byte boundary (zeros between archives are skipped). The squashfs is
// compressed already, so it is not compressed again.
func AppendRootfs(ctx context.Context, w io.Writer, n int64, squashfs string, modTime time.Time) error {
	if r := n % 4; r != 0 {
		if _, err := w.Write(make([]byte, 4-r)); err != nil {
			return fmt.Errorf("append rootfs: %w", err)
		}
	}
	rt := tree{}
	if err := rt.addFile(RootfsPath, 0o444, squashfs); err != nil {
		return fmt.Errorf("append rootfs: %w", err)
	}
	if err := writeTree(ctx, cpio.NewWriter(w), rt, modTime); err != nil {
		return fmt.Errorf("append rootfs: %w", err)
	}
	return nil
}

func writeTree(ctx context.Context, cw *cpio.Writer, t tree, mtime time.Time) error {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names) // a parent sorts before its children
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := t[n]
		h := &cpio.Header{Name: n, Mode: m.mode, Size: m.size, ModTime: mtime, DevMajor: m.rdevMajor, DevMinor: m.rdevMinor}
		if err := cw.WriteHeader(h); err != nil {
			return err
		}
		if m.size == 0 {
			continue
		}
		if m.file == "" {
			if _, err := cw.Write(m.data); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(m.file)
		if err != nil {
			return err
		}
		_, err = io.CopyN(cw, bufio.NewReaderSize(f, 1<<20), m.size)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", m.file, err)
		}
	}
	return cw.Close()
}

// addModules puts the resolved modules and filtered index files under
// lib/modules/<version>/ and writes the list stage 1 loads.
func addModules(t tree, opt Options) error {
	ix, err := kmod.Open(opt.ModulesDir)
	if err != nil {
		return err
	}
	names, drivers := opt.Modules, opt.Drivers
	if names == nil {
		names = DefaultModules
	}
	if drivers == nil {
		drivers = DefaultDrivers
	}
	mods, err := ix.Resolve(append(append([]string(nil), names...), drivers...)...)
	if err != nil {
		return err
	}
	base := path.Join("lib/modules", filepath.Base(opt.ModulesDir))
	keep := map[string]bool{}
	for _, m := range mods {
		keep[m.Name] = true
		if filepath.IsAbs(m.Path) {
			return fmt.Errorf("module %s: absolute path %s in modules.dep", m.Name, m.Path)
		}
		if err := t.addFile(path.Join(base, filepath.ToSlash(m.Path)), 0o644, ix.Path(m)); err != nil {
			return err
		}
	}
	filters := []struct {
		file   string
		module func(fields []string) string // which module a line is about ("" keeps it)
	}{
		{"modules.dep", func(f []string) string { return strings.TrimSuffix(f[0], ":") }},
		{"modules.alias", func(f []string) string { return f[len(f)-1] }},
		{"modules.softdep", func(f []string) string { return f[1] }},
		{"modules.builtin", nil},
		{"modules.builtin.modinfo", nil},
	}
	for _, f := range filters {
		data, err := os.ReadFile(filepath.Join(opt.ModulesDir, f.file))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if f.module != nil {
			data = filterLines(data, keep, f.module)
		}
		t.addBytes(path.Join(base, f.file), 0o644, data)
	}
	var list bytes.Buffer
	for _, n := range names {
		list.WriteString(n + "\n")
	}
	t.addBytes(ModuleListPath, 0o644, list.Bytes())
	return nil
}

// filterLines keeps the lines of an index file that are about a kept module.
func filterLines(data []byte, keep map[string]bool, module func([]string) string) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 && !(len(f) == 1 && strings.HasSuffix(f[0], ":")) {
			continue // blank, comment or malformed
		}
		if strings.HasPrefix(f[0], "#") || !keep[kmod.Name(module(f))] {
			continue
		}
		out.WriteString(line + "\n")
	}
	return out.Bytes()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
