package assemble

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/cpio"
	"github.com/ros-os/ros/pkg/squashfs"
)

// ErrUnknownFormat is wrapped when an output format is not in the table.
var ErrUnknownFormat = errors.New("unknown output format")

// OutputFunc writes one output format from an assembled tree: tree is the
// uncompressed tar stream Build writes. base is the path prefix of what it
// writes, LinuxKit's NAME: "out/ros" gives out/ros.tar, out/ros-kernel ...
type OutputFunc func(ctx context.Context, base string, tree io.Reader, opts OutputOptions) error

// OutputOptions tune the outputs.
type OutputOptions struct {
	// Compression is the squashfs compressor ("" = xz). The root of a ros
	// payload takes zstd, xz or gzip (see payload.Compressions).
	Compression string
	// ModTime is the squashfs filesystem time (SOURCE_DATE_EPOCH).
	ModTime time.Time
	// Processors limits mksquashfs's threads (0 = all).
	Processors int
	// TempDir holds the tree between formats when several are written.
	TempDir string
}

// Outputs is a table from format name to writer, as LinuxKit's. Callers
// add their own formats (iso, raw, qcow2 ...) to the table DefaultOutputs
// returns.
type Outputs map[string]OutputFunc

// DefaultOutputs returns a new table with LinuxKit's formats this package
// writes:
//
//	tar              NAME.tar, the whole tree
//	kernel+initrd    NAME-kernel, NAME-cmdline, NAME-initrd.img (gzip newc
//	                 cpio of the tree without boot/, microcode first if any)
//	kernel+squashfs  NAME-kernel, NAME-cmdline, NAME-squashfs.img (the tree
//	                 without boot/)
func DefaultOutputs() Outputs {
	return Outputs{
		"tar":             WriteTar,
		"kernel+initrd":   WriteKernelInitrd,
		"kernel+squashfs": WriteKernelSquashfs,
	}
}

// Names returns the formats in the table, sorted.
func (o Outputs) Names() []string {
	names := make([]string, 0, len(o))
	for n := range o {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Check returns an error naming the first format not in the table.
func (o Outputs) Check(formats []string) error {
	for _, f := range formats {
		if o[f] == nil {
			return fmt.Errorf("format %q: %w (known: %s)", f, ErrUnknownFormat, strings.Join(o.Names(), ", "))
		}
	}
	return nil
}

// Write writes format from tree.
func (o Outputs) Write(ctx context.Context, format, base string, tree io.Reader, opts OutputOptions) error {
	if err := o.Check([]string{format}); err != nil {
		return err
	}
	if err := o[format](ctx, base, tree, opts); err != nil {
		return fmt.Errorf("output %s: %w", format, err)
	}
	return nil
}

// BuildOutputs builds cfg and writes each format. With one format the tree
// streams from the build into the writer; with several it is kept in a
// temporary file and read once per format.
func BuildOutputs(ctx context.Context, cfg *buildfile.Config, src ImageSource, base string, formats []string, outs Outputs, bopts Options, oopts OutputOptions) error {
	if err := outs.Check(formats); err != nil {
		return err
	}
	if err := Validate(cfg); err != nil {
		return err
	}
	switch len(formats) {
	case 0:
		return nil
	case 1:
		return streamOutput(ctx, cfg, src, base, formats[0], outs, bopts, oopts)
	}
	f, err := os.CreateTemp(oopts.TempDir, "ros-tree-*.tar")
	if err != nil {
		return fmt.Errorf("temporary tree: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := Build(ctx, cfg, src, bw, bopts); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("temporary tree: %w", err)
	}
	for _, format := range formats {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("temporary tree: %w", err)
		}
		if err := outs.Write(ctx, format, base, bufio.NewReaderSize(f, 1<<20), oopts); err != nil {
			return err
		}
	}
	return nil
}

// streamOutput runs Build and one writer connected by a pipe.
func streamOutput(ctx context.Context, cfg *buildfile.Config, src ImageSource, base, format string, outs Outputs, bopts Options, oopts OutputOptions) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		err := Build(ctx, cfg, src, bw, bopts)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	oerr := outs.Write(ctx, format, base, pr, oopts)
	if oerr != nil {
		pr.CloseWithError(oerr)
	} else {
		_, _ = io.Copy(io.Discard, pr) // the tar's end padding
	}
	berr := <-done
	if berr != nil && (oerr == nil || !errors.Is(berr, oerr)) {
		return berr
	}
	return oerr
}

// WriteTar writes the tree as NAME.tar.
func WriteTar(_ context.Context, base string, tree io.Reader, _ OutputOptions) error {
	return writeFile(base+".tar", 0o644, tree)
}

// writeFile writes r to name, removing it on failure.
func writeFile(name string, mode os.FileMode, r io.Reader) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(name)
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// bootPart says what to do with a tree entry for the kernel+ outputs: the
// boot files are split out; the rest of boot/ is left out, as LinuxKit does.
func bootPart(name string) (part string, skip bool) {
	name = strings.TrimSuffix(name, "/")
	switch name {
	case "boot/kernel", "boot/cmdline", "boot/ucode.cpio":
		return path.Base(name), true
	}
	return "", strings.HasPrefix(name, "boot/")
}

// WriteKernelInitrd writes NAME-kernel, NAME-cmdline (when not empty) and
// NAME-initrd.img: the microcode archive, if any, then the gzip-compressed
// cpio of the tree without boot/, padded to 4 bytes.
func WriteKernelInitrd(ctx context.Context, base string, tree io.Reader, _ OutputOptions) (err error) {
	initrdName := base + "-initrd.img"
	f, err := os.OpenFile(initrdName, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(initrdName)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	var (
		zw      *gzip.Writer
		cw      *cpio.Writer
		cmdline []byte
		bootDir *tar.Header
	)
	// start begins the compressed cpio, after any microcode.
	start := func() error {
		if zw != nil {
			return nil
		}
		zw = gzip.NewWriter(bw)
		cw = cpio.NewWriter(zw)
		if bootDir != nil {
			return writeCPIO(cw, bootDir, nil)
		}
		return nil
	}
	tr := tar.NewReader(tree)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read tree: %w", err)
		}
		part, skip := bootPart(h.Name)
		switch part {
		case "kernel":
			if err := writeFile(base+"-kernel", 0o644, tr); err != nil {
				return err
			}
			continue
		case "cmdline":
			if cmdline, err = io.ReadAll(tr); err != nil {
				return fmt.Errorf("read cmdline: %w", err)
			}
			continue
		case "ucode.cpio":
			if zw != nil {
				return errors.New("boot/ucode.cpio comes after the root filesystem in the tree")
			}
			if _, err := io.Copy(bw, tr); err != nil { //nolint:gosec // G110: tar.Reader stops at each entry's size; the tree comes from the local image store the build trusts
				return fmt.Errorf("write microcode: %w", err)
			}
			continue
		}
		if skip {
			continue
		}
		if zw == nil && h.Typeflag == tar.TypeDir && strings.TrimSuffix(h.Name, "/") == "boot" {
			bootDir = h // the microcode may follow: hold it back
			continue
		}
		if err := start(); err != nil {
			return err
		}
		if err := writeCPIO(cw, h, tr); err != nil {
			return err
		}
	}
	if err := start(); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return fmt.Errorf("cpio trailer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress initrd: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", initrdName, err)
	}
	if err := pad4(f); err != nil {
		return fmt.Errorf("write %s: %w", initrdName, err)
	}
	if len(cmdline) > 0 {
		return writeFile(base+"-cmdline", 0o644, strings.NewReader(string(cmdline)))
	}
	return nil
}

// pad4 pads the file with zeros to a multiple of 4 bytes, so another
// archive can be appended (the kernel reads concatenated initramfs parts).
func pad4(f *os.File) error {
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if n := off % 4; n != 0 {
		_, err = f.Write(make([]byte, 4-n))
	}
	return err
}

// WriteKernelSquashfs writes NAME-kernel, NAME-cmdline (when not empty) and
// NAME-squashfs.img, the tree without boot/ (see squashfs.FromTar).
func WriteKernelSquashfs(ctx context.Context, base string, tree io.Reader, opts OutputOptions) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := splitBoot(base, tree, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	serr := squashfs.FromTar(ctx, pr, base+"-squashfs.img", squashfs.Options{
		Compression: opts.Compression, Epoch: opts.ModTime.Unix(), Processors: opts.Processors,
	})
	pr.CloseWithError(errors.New("mksquashfs stopped reading"))
	err := <-done
	if serr != nil {
		return serr
	}
	if err != nil {
		os.Remove(base + "-squashfs.img")
	}
	return err
}

// splitBoot writes the kernel and command line to files and the rest of
// the tree, without boot/, to w.
func splitBoot(base string, tree io.Reader, w io.Writer) error {
	tr := tar.NewReader(tree)
	tw := tar.NewWriter(w)
	var cmdline []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read tree: %w", err)
		}
		part, skip := bootPart(h.Name)
		switch {
		case part == "kernel":
			if err := writeFile(base+"-kernel", 0o644, tr); err != nil {
				return err
			}
			continue
		case part == "cmdline":
			if cmdline, err = io.ReadAll(tr); err != nil {
				return fmt.Errorf("read cmdline: %w", err)
			}
			continue
		case skip:
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write tree: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil { //nolint:gosec // G110: tar.Reader stops at each entry's size; the tree comes from the local image store the build trusts
			return fmt.Errorf("write tree: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write tree: %w", err)
	}
	if len(cmdline) > 0 {
		return writeFile(base+"-cmdline", 0o644, strings.NewReader(string(cmdline)))
	}
	return nil
}
