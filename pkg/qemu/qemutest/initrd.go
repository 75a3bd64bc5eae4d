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
	var off int64
	write := func(b []byte) {
		n, _ := bw.Write(b)
		off += int64(n)
	}
	pad := func() {
		if r := off % 4; r != 0 {
			write(make([]byte, 4-r))
		}
	}
	entry := func(ino int, name string, mode uint32, data []byte, major, minor uint32) {
		hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(name)+1, 0)
		write([]byte(hdr))
		write([]byte(name + "\x00"))
		pad()
		write(data)
		pad()
	}
	for i, f := range all {
		name := strings.TrimPrefix(f.Name, "/")
		perm := uint32(f.Mode.Perm())
		switch {
		case f.Mode&os.ModeDir != 0:
			entry(i+1, name, 0o040000|perm, nil, 0, 0)
		case f.Mode&os.ModeCharDevice != 0:
			entry(i+1, name, 0o020000|perm, nil, f.Major, f.Minor)
		default:
			entry(i+1, name, 0o100000|perm, f.Data, 0, 0)
		}
	}
	entry(0, "TRAILER!!!", 0, nil, 0, 0)
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
