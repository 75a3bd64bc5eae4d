package kmod

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"golang.org/x/sys/unix"
)

// Insert loads the module file at path into the running kernel. Plain .ko
// files go through finit_module(2); .ko.xz, .ko.zst and .ko.gz are
// decompressed in memory and passed to init_module(2), which every kernel
// accepts (MODULE_INIT_COMPRESSED_FILE needs 6.2 and a matching config).
// An already loaded module gives an error wrapping unix.EEXIST.
//
// A module the kernel lists as live in /sys/module is not read at all, as
// modprobe does: finit_module reads and checks the signature of the whole
// file before finding it loaded. Under TCG that took 5 to 34 ms a module
// (libata), 0.12 s in all when PID 1 coldplugged the drivers stage 1 had
// already loaded.
func Insert(path, params string) error { return insert(sysModuleDir, path, params) }

// insert is Insert with the kernel's module list at sysModule.
func insert(sysModule, path, params string) error {
	if live(sysModule, Name(path)) {
		return fmt.Errorf("insert module %s: %w", path, unix.EEXIST)
	}
	if strings.HasSuffix(path, ".ko") {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("insert module: %w", err)
		}
		defer f.Close()
		err = unix.FinitModule(int(f.Fd()), params, 0)
		if !errors.Is(err, unix.ENOSYS) {
			if err != nil {
				return fmt.Errorf("finit_module %s: %w", path, err)
			}
			return nil
		}
	}
	image, err := ReadModule(path)
	if err != nil {
		return err
	}
	if err := unix.InitModule(image, params); err != nil {
		return fmt.Errorf("init_module %s: %w", path, err)
	}
	return nil
}

// ReadModule returns the ELF image of a module file, decompressing it when
// its name ends in .xz, .zst or .gz.
func ReadModule(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	var r io.Reader
	switch {
	case strings.HasSuffix(path, ".xz"):
		r, err = xz.NewReader(bytes.NewReader(data))
	case strings.HasSuffix(path, ".zst"):
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1))
		if err == nil {
			defer d.Close()
			r = d
		}
	case strings.HasSuffix(path, ".gz"):
		r, err = gzip.NewReader(bytes.NewReader(data))
	default:
		return data, nil
	}
	if err != nil {
		return nil, fmt.Errorf("decompress module %s: %w", path, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decompress module %s: %w", path, err)
	}
	return out, nil
}
