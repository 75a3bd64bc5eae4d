// Package squashfs makes squashfs images with Debian's mksquashfs
// (squashfs-tools 4.5), from a directory or straight from a tar stream.
//
// Images are reproducible: the same input gives the same bytes. The
// filesystem and root directory times are Options.Epoch, and file times
// later than it are clamped to it (mksquashfs's SOURCE_DATE_EPOCH rules).
//
// From a tar stream (FromTar) nothing is extracted: mksquashfs -tar reads
// owners, modes, device nodes, hard links and extended attributes (file
// capabilities) from the headers, so neither root nor a temporary copy is
// needed. From a directory (Make) owners and modes are those on disk; a
// pseudo file (Options.Pseudo) can set them without root.
package squashfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// ErrNoMksquashfs is wrapped when mksquashfs is not installed.
var ErrNoMksquashfs = errors.New("mksquashfs not found (install squashfs-tools)")

// Options tune the image.
type Options struct {
	// Compression is the compressor: "xz" (the default, smallest), "gzip",
	// "zstd", "lz4", "lzo" or "lzma". A ros payload is xz or gzip (see
	// payload.Compressions).
	Compression string
	// Epoch is the filesystem time, in seconds since 1970 (SOURCE_DATE_EPOCH).
	Epoch int64
	// Level is the compression level of gzip (1-9) or zstd (1-22); 0 keeps
	// mksquashfs's default (gzip 9, zstd 15).
	Level int
	// BlockSize is the data block size in bytes; 0 keeps mksquashfs's 128 KiB.
	BlockSize int
	// NoFragments stores the tail of each file in a block of its own
	// instead of packing tails together. Linux then allocates no fragment
	// cache for the mount (three blocks of kernel memory).
	NoFragments bool
	// Processors limits the compressing threads; 0 uses every CPU. The
	// output does not depend on it.
	Processors int
	// Xattrs keeps extended attributes found in a directory given to Make
	// (by default they are dropped, so host labels do not leak in). FromTar
	// always keeps those in the tar.
	Xattrs bool
	// Pseudo lines are mksquashfs pseudo definitions ("path m 600 1000 1000"
	// sets a file's mode and owner; "dev/null c 666 0 0 1 3" makes a device).
	Pseudo []string
	// Bin is the mksquashfs program; "" finds it in $PATH.
	Bin string
}

func (o Options) bin() (string, error) {
	name := o.Bin
	if name == "" {
		name = "mksquashfs"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, ErrNoMksquashfs)
	}
	return p, nil
}

// args returns the options common to both sources.
func (o Options) args(pseudoFile string) ([]string, error) {
	comp := o.Compression
	if comp == "" {
		comp = "xz"
	}
	switch comp {
	case "xz", "gzip", "zstd", "lz4", "lzo", "lzma":
	default:
		return nil, fmt.Errorf("compression %q: expected xz, gzip, zstd, lz4, lzo or lzma", comp)
	}
	if o.Epoch < 0 || o.Epoch > 1<<32-1 {
		return nil, fmt.Errorf("epoch %d: expected 0 to 4294967295", o.Epoch)
	}
	args := []string{"-noappend", "-comp", comp, "-reproducible", "-no-progress", "-quiet",
		"-root-mode", "0755", "-root-uid", "0", "-root-gid", "0", "-no-recovery"}
	if o.Level != 0 {
		if comp != "gzip" && comp != "zstd" {
			return nil, fmt.Errorf("compression level %d: only gzip and zstd take one, not %s", o.Level, comp)
		}
		args = append(args, "-Xcompression-level", strconv.Itoa(o.Level))
	}
	if o.BlockSize > 0 {
		args = append(args, "-b", strconv.Itoa(o.BlockSize))
	}
	if o.NoFragments {
		args = append(args, "-no-fragments")
	}
	if o.Processors > 0 {
		args = append(args, "-processors", strconv.Itoa(o.Processors))
	}
	if pseudoFile != "" {
		args = append(args, "-pf", pseudoFile)
	}
	return args, nil
}

// Make writes the squashfs image out from the directory srcDir.
func Make(ctx context.Context, srcDir, out string, opts Options) error {
	fi, err := os.Stat(srcDir)
	if err != nil {
		return fmt.Errorf("squashfs source: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("squashfs source %s: not a directory", srcDir)
	}
	pseudo, cleanup, err := writePseudo(opts.Pseudo)
	if err != nil {
		return err
	}
	defer cleanup()
	args, err := opts.args(pseudo)
	if err != nil {
		return err
	}
	if !opts.Xattrs {
		args = append(args, "-no-xattrs")
	}
	return run(ctx, opts, nil, append([]string{srcDir, out}, args...))
}

// FromTar writes the squashfs image out from the uncompressed tar stream r.
// Directories must come before their contents (as in any tar from this
// project); a missing parent directory would get the current time.
func FromTar(ctx context.Context, r io.Reader, out string, opts Options) error {
	pseudo, cleanup, err := writePseudo(opts.Pseudo)
	if err != nil {
		return err
	}
	defer cleanup()
	args, err := opts.args(pseudo)
	if err != nil {
		return err
	}
	return run(ctx, opts, r, append([]string{"-", out, "-tar"}, args...))
}

// writePseudo writes the pseudo definitions to a temporary file.
func writePseudo(lines []string) (string, func(), error) {
	if len(lines) == 0 {
		return "", func() {}, nil
	}
	f, err := os.CreateTemp("", "ros-squashfs-pseudo-*")
	if err != nil {
		return "", nil, fmt.Errorf("pseudo file: %w", err)
	}
	cleanup := func() { os.Remove(f.Name()) }
	for _, l := range lines {
		if strings.ContainsAny(l, "\n") {
			cleanup()
			f.Close()
			return "", nil, fmt.Errorf("pseudo definition %q: contains a newline", l)
		}
		if _, err := io.WriteString(f, l+"\n"); err != nil {
			cleanup()
			f.Close()
			return "", nil, fmt.Errorf("pseudo file: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("pseudo file: %w", err)
	}
	return f.Name(), cleanup, nil
}

// run runs mksquashfs with SOURCE_DATE_EPOCH set. A failed run removes the
// partial output.
func run(ctx context.Context, opts Options, stdin io.Reader, args []string) error {
	bin, err := opts.bin()
	if err != nil {
		return err
	}
	out := args[1]
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(opts.Epoch, 10))
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(out)
		if ctx.Err() != nil {
			return fmt.Errorf("mksquashfs %s: %w", out, ctx.Err())
		}
		return fmt.Errorf("mksquashfs %s: %w: %s", out, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
