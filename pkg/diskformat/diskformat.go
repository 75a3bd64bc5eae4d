// Package diskformat converts a raw disk image to the formats virtual
// machine platforms import, with Debian's qemu-img.
package diskformat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// ErrUnknownFormat is returned for a format name not in Formats.
var ErrUnknownFormat = errors.New("unknown disk format")

// Format is one output format.
type Format struct {
	Name    string   // ros name: qcow2, vmdk, vhd, vhdx
	Driver  string   // qemu-img driver (-O)
	Options []string // qemu-img -o options
}

// Formats lists the supported formats by name.
var Formats = map[string]Format{
	"qcow2": {Name: "qcow2", Driver: "qcow2"},
	"vmdk":  {Name: "vmdk", Driver: "vmdk"},
	// vhd is qemu's "vpc"; force_size keeps the exact virtual size
	// (cloud importers reject a size rounded to CHS geometry).
	"vhd":  {Name: "vhd", Driver: "vpc", Options: []string{"force_size=on"}},
	"vhdx": {Name: "vhdx", Driver: "vhdx"},
}

// Names returns the supported format names, sorted.
func Names() []string {
	var n []string
	for k := range Formats {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Convert writes the raw image raw to out in format (see Formats). out is
// written to a temporary file first and renamed into place.
func Convert(ctx context.Context, raw, out, format string) error {
	f, ok := Formats[format]
	if !ok {
		return fmt.Errorf("convert %s to %s: %w (want one of %s)", raw, format, ErrUnknownFormat, strings.Join(Names(), ", "))
	}
	if _, err := os.Stat(raw); err != nil {
		return fmt.Errorf("convert %s to %s: %w", raw, format, err)
	}
	tmp := out + ".tmp"
	args := []string{"convert", "-q", "-f", "raw", "-O", f.Driver}
	if len(f.Options) > 0 {
		args = append(args, "-o", strings.Join(f.Options, ","))
	}
	args = append(args, raw, tmp)
	cmd := exec.CommandContext(ctx, "qemu-img", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("convert %s to %s: qemu-img %s: %w: %s", raw, format, strings.Join(args, " "), err, bytes.TrimSpace(b))
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("convert %s to %s: %w", raw, format, err)
	}
	return nil
}
