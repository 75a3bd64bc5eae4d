package qemutest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"

	"github.com/ros-os/ros/pkg/cpio"
)

// File is one entry of an initramfs.
type File struct {
	Name string      // path inside the archive, no leading slash
	Mode os.FileMode // permission bits plus os.ModeDir / os.ModeCharDevice
	Data []byte      // regular files
	// Major and Minor of a character device.
	Major, Minor uint32
}

// WriteInitrd writes files as an uncompressed newc cpio archive, the format
// the kernel unpacks as an initramfs. Parent directories are added when
// missing; entries are sorted by name.
func WriteInitrd(w io.Writer, files []File) error {
	have := map[string]bool{}
	for _, f := range files {
		have[f.Name] = true
	}
	all := append([]File(nil), files...)
	for _, f := range files {
		for d := path.Dir(f.Name); d != "." && d != "/" && !have[d]; d = path.Dir(d) {
			have[d] = true
			all = append(all, File{Name: d, Mode: os.ModeDir | 0o755})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })

	bw := bufio.NewWriter(w)
	cw := cpio.NewWriter(bw)
	for _, f := range all {
		h := &cpio.Header{Name: f.Name, Mode: uint32(f.Mode.Perm())}
		switch {
		case f.Mode&os.ModeDir != 0:
			h.Mode |= cpio.TypeDir
		case f.Mode&os.ModeCharDevice != 0:
			h.Mode |= cpio.TypeChar
			h.DevMajor, h.DevMinor = f.Major, f.Minor
		default:
			h.Mode |= cpio.TypeReg
			h.Size = int64(len(f.Data))
		}
		if err := cw.WriteHeader(h); err != nil {
			return fmt.Errorf("write initrd: %w", err)
		}
		if h.Size == 0 {
			continue
		}
		if _, err := cw.Write(f.Data); err != nil {
			return fmt.Errorf("write initrd: %w", err)
		}
	}
	if err := cw.Close(); err != nil {
		return fmt.Errorf("write initrd: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write initrd: %w", err)
	}
	return nil
}

// BuildStaticGo compiles the Go main package pkg (a path or import path,
// resolved from the current directory) into a static binary at out.
func BuildStaticGo(ctx context.Context, pkg, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// InitrdFiles returns the entries every test initramfs needs besides /init:
// /dev/console (so the kernel gives init a console), /proc and /sys.
func InitrdFiles() []File {
	return []File{
		{Name: "dev", Mode: os.ModeDir | 0o755},
		{Name: "dev/console", Mode: os.ModeCharDevice | os.ModeDevice | 0o600, Major: 5, Minor: 1},
		{Name: "proc", Mode: os.ModeDir | 0o755},
		{Name: "sys", Mode: os.ModeDir | 0o755},
	}
}
