package assemble

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ros-os/ros/pkg/squashfs"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// outputTree builds the root config with one service: a small whole tree.
func outputTree(t *testing.T) []byte {
	cfg := parse(t, "ros.yml", rootYAML+"services:\n  - name: rngd\n    image: ros/rngd:1\n")
	return build(t, cfg, &fakeSource{images: containerImages(t)})
}

func TestWriteTar(t *testing.T) {
	tree := outputTree(t)
	base := filepath.Join(t.TempDir(), "ros")
	if err := DefaultOutputs().Write(context.Background(), "tar", base, bytes.NewReader(tree), OutputOptions{}); err != nil {
		t.Fatalf("Write(tar) = %v", err)
	}
	if got := readFile(t, base+".tar"); got != string(tree) {
		t.Errorf("ros.tar differs from the tree (%d and %d bytes)", len(got), len(tree))
	}
}

func TestWriteKernelInitrd(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("needs cpio")
	}
	tree := outputTree(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "ros")
	if err := DefaultOutputs().Write(context.Background(), "kernel+initrd", base, bytes.NewReader(tree), OutputOptions{}); err != nil {
		t.Fatalf("Write(kernel+initrd) = %v", err)
	}
	if got := readFile(t, base+"-kernel"); got != "bzImage bytes" {
		t.Errorf("ros-kernel = %q, want the kernel", got)
	}
	if got := readFile(t, base+"-cmdline"); got != "console=ttyS0 quiet" {
		t.Errorf("ros-cmdline = %q", got)
	}
	initrd := readFile(t, base+"-initrd.img")
	if !strings.HasPrefix(initrd, "ucode") || len(initrd)%4 != 0 {
		t.Fatalf("initrd starts %q and is %d bytes, want the microcode first and a multiple of 4", initrd[:8], len(initrd))
	}
	// the rest is a gzip newc cpio: let GNU cpio list and extract it
	gz := filepath.Join(dir, "initrd.cpio.gz")
	if err := os.WriteFile(gz, []byte(initrd[len("ucode"):]), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", "gzip -dc "+gz+" | cpio -itv --quiet --numeric-uid-gid").CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, out)
	}
	list := string(out)
	for _, want := range []string{
		"-rwxr-xr-x   1 0        0               7 ", // usr/bin/tool, 7 bytes
		" usr/bin/tool\n",
		" usr/bin/tool2 -> tool\n", // hard link made a relative symlink
		"drwxr-x---   2 0        0               0 ",
		" etc/resolv.conf -> /run/resolvconf/resolv.conf\n",
		" containers/services/rngd/config.json\n",
		" lib/modules/6.1.0/modules.dep\n",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("cpio listing lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "boot/kernel") || strings.Contains(list, "boot/cmdline") {
		t.Errorf("initrd holds boot files:\n%s", list)
	}
	x := filepath.Join(dir, "x")
	if err := os.Mkdir(x, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-c", "gzip -dc "+gz+" | (cd "+x+" && cpio -idm --quiet)").CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v\n%s", err, out)
	}
	if got := readFile(t, filepath.Join(x, "usr/bin/tool2")); got != "tool v2" {
		t.Errorf("extracted usr/bin/tool2 = %q, want tool v2", got)
	}
	if got := readFile(t, filepath.Join(x, "etc/issue")); got != "extra\n" {
		t.Errorf("extracted etc/issue = %q", got)
	}
}

func TestWriteKernelSquashfs(t *testing.T) {
	for _, tool := range []string{"mksquashfs", "unsquashfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	tree := outputTree(t)
	base := filepath.Join(t.TempDir(), "ros")
	opts := OutputOptions{Compression: "gzip", ModTime: time.Unix(1700000000, 0)}
	if err := DefaultOutputs().Write(context.Background(), "kernel+squashfs", base, bytes.NewReader(tree), opts); err != nil {
		t.Fatalf("Write(kernel+squashfs) = %v", err)
	}
	if got := readFile(t, base+"-kernel"); got != "bzImage bytes" {
		t.Errorf("ros-kernel = %q, want the kernel", got)
	}
	out, err := utcCommand("unsquashfs", "-lln", "-d", "", base+"-squashfs.img").CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, out)
	}
	list := string(out)
	for _, want := range []string{
		"drwxr-x--- 0/0", " /etc\n",
		"-rwxr-xr-x 0/0                       7 2020-09-13 12:26 /usr/bin/tool2\n", // a hard link; image times kept
		"lrwxrwxrwx 0/0                      27 2023-11-14 22:13 /etc/resolv.conf -> /run/resolvconf/resolv.conf",
		" /containers/services/rngd/runtime.json\n",
		"drwxr-xr-x 0/0                       3 2023-11-14 22:13 /boot\n", // kept empty, as LinuxKit does
	} {
		if !strings.Contains(list, want) {
			t.Errorf("unsquashfs -lln lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "/boot/") {
		t.Errorf("squashfs holds boot files:\n%s", list)
	}
}

func TestBuildOutputs(t *testing.T) {
	cfg := parse(t, "ros.yml", rootYAML)
	dir := t.TempDir()
	base := filepath.Join(dir, "ros")
	ctx := context.Background()
	outs := DefaultOutputs()
	var seen []string
	outs["count"] = func(_ context.Context, b string, tree io.Reader, _ OutputOptions) error {
		n, err := io.Copy(io.Discard, tree)
		seen = append(seen, b)
		if n == 0 {
			return errors.New("empty tree")
		}
		return err
	}
	src := &fakeSource{images: rootImages(t)}
	// several formats: the tree goes through a temporary file
	if err := BuildOutputs(ctx, cfg, src, base, []string{"tar", "count"}, outs, Options{}, OutputOptions{TempDir: dir}); err != nil {
		t.Fatalf("BuildOutputs(tar, count) = %v", err)
	}
	if len(seen) != 1 {
		t.Errorf("count ran %d times, want 1", len(seen))
	}
	// one format: streamed
	if err := BuildOutputs(ctx, cfg, src, base+"2", []string{"tar"}, outs, Options{}, OutputOptions{}); err != nil {
		t.Fatalf("BuildOutputs(tar) = %v", err)
	}
	if a, b := readFile(t, base+".tar"), readFile(t, base+"2.tar"); a != b {
		t.Errorf("streamed and spooled tar differ")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("output dir holds %d files, want ros.tar and ros2.tar only", len(entries))
	}
	// errors: unknown format, a failing writer, a failing build
	if err := BuildOutputs(ctx, cfg, src, base, []string{"vhd"}, outs, Options{}, OutputOptions{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("BuildOutputs(vhd) = %v, want ErrUnknownFormat", err)
	}
	boom := errors.New("boom")
	outs["fail"] = func(context.Context, string, io.Reader, OutputOptions) error { return boom }
	if err := BuildOutputs(ctx, cfg, src, base, []string{"fail"}, outs, Options{}, OutputOptions{}); !errors.Is(err, boom) {
		t.Errorf("BuildOutputs(fail) = %v, want boom", err)
	}
	empty := &fakeSource{images: map[string]v1.Image{}}
	if err := BuildOutputs(ctx, cfg, empty, base+"3", []string{"tar"}, outs, Options{}, OutputOptions{}); !errors.Is(err, errNotFound) {
		t.Errorf("BuildOutputs(missing images) = %v, want errNotFound", err)
	}
	if _, err := os.Stat(base + "3.tar"); !os.IsNotExist(err) {
		t.Errorf("a failed build left ros3.tar behind (%v)", err)
	}
	if got := outs.Names(); strings.Join(got, " ") != "count fail kernel+initrd kernel+squashfs tar" {
		t.Errorf("Names() = %v", got)
	}
}

// utcCommand is exec.Command with TZ=UTC, so listed times do not depend on
// the machine's time zone.
func utcCommand(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	return cmd
}

// TestPayloadSquashfs makes the ros payload: the whole tree, boot/ included,
// as one squashfs (what the disk and ISO writers take).
func TestPayloadSquashfs(t *testing.T) {
	for _, tool := range []string{"mksquashfs", "unsquashfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	out := filepath.Join(t.TempDir(), "rootfs.squashfs")
	if err := squashfs.FromTar(context.Background(), bytes.NewReader(outputTree(t)), out, squashfs.Options{Compression: "xz", Epoch: 1700000000}); err != nil {
		t.Fatalf("squashfs.FromTar(tree) = %v", err)
	}
	list, err := utcCommand("unsquashfs", "-lln", "-d", "", out).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, list)
	}
	for _, want := range []string{" /boot/kernel\n", " /boot/cmdline\n", " /boot/ucode.cpio\n", " /sbin/init\n", " /containers/services/rngd/config.json\n"} {
		if !strings.Contains(string(list), want) {
			t.Errorf("payload lacks %q:\n%s", want, list)
		}
	}
}
