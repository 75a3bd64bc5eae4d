package squashfs

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"mksquashfs", "unsquashfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (squashfs-tools)", tool)
		}
	}
}

// listing returns `unsquashfs -lln` output without sizes and times:
// "mode uid/gid path [-> target]" per line, the root directory left out.
func listing(t *testing.T, img string) []string {
	t.Helper()
	out, err := exec.Command("unsquashfs", "-lln", "-d", "", img).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs -lln %s: %v\n%s", img, err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		// mode owner size|maj,min date time path [-> target]
		i := 5
		if strings.HasSuffix(f[2], ",") { // device: "1," "3"
			i = 6
		}
		line := f[0] + " " + f[1] + " " + strings.Join(f[i:], " ")
		lines = append(lines, line)
	}
	return lines
}

type entry struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	data     string
	link     string
	major    int64
	minor    int64
	pax      map[string]string
}

func makeTar(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Linkname: e.link, Devmajor: e.major, Devminor: e.minor, ModTime: time.Unix(1000, 0), PAXRecords: e.pax}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var sample = []entry{
	{name: "etc", typ: tar.TypeDir, mode: 0o755},
	{name: "etc/secret", typ: tar.TypeReg, mode: 0o600, uid: 1000, gid: 1000, data: "s3cret"},
	{name: "etc/link", typ: tar.TypeSymlink, mode: 0o777, link: "secret"},
	{name: "etc/hard", typ: tar.TypeLink, link: "etc/secret"},
	{name: "dev", typ: tar.TypeDir, mode: 0o755},
	{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
	{name: "usr", typ: tar.TypeDir, mode: 0o755},
	{name: "usr/bin", typ: tar.TypeDir, mode: 0o755},
	{name: "usr/bin/ping", typ: tar.TypeReg, mode: 0o4755, data: "ELF",
		pax: map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"}},
	{name: "with space", typ: tar.TypeReg, mode: 0o644, data: "x"},
}

func TestFromTarListing(t *testing.T) {
	needTools(t)
	out := filepath.Join(t.TempDir(), "root.sqfs")
	if err := FromTar(context.Background(), bytes.NewReader(makeTar(t, sample)), out, Options{Compression: "gzip"}); err != nil {
		t.Fatalf("FromTar() = %v", err)
	}
	got := strings.Join(listing(t, out), "\n")
	want := strings.Join([]string{
		"drwxr-xr-x 0/0 /dev",
		"crw-rw-rw- 0/0 /dev/null",
		"drwxr-xr-x 0/0 /etc",
		"-rw------- 1000/1000 /etc/hard",
		"lrwxrwxrwx 0/0 /etc/link -> secret",
		"-rw------- 1000/1000 /etc/secret",
		"drwxr-xr-x 0/0 /usr",
		"drwxr-xr-x 0/0 /usr/bin",
		"-rwsr-xr-x 0/0 /usr/bin/ping",
		"-rw-r--r-- 0/0 /with space",
	}, "\n")
	if got != want {
		t.Errorf("FromTar listing =\n%s\nwant\n%s", got, want)
	}
	// the file capability survives
	dir := filepath.Join(t.TempDir(), "x")
	if o, err := exec.Command("unsquashfs", "-d", dir, out).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, o)
	}
	if getcap, err := exec.LookPath("getcap"); err == nil && os.Geteuid() == 0 {
		o, err := exec.Command(getcap, filepath.Join(dir, "usr/bin/ping")).CombinedOutput()
		if err != nil || !strings.Contains(string(o), "cap_net_raw") {
			t.Errorf("getcap usr/bin/ping = %q, %v, want cap_net_raw", o, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "etc/secret"))
	if err != nil || string(b) != "s3cret" {
		t.Errorf("etc/secret = %q, %v, want s3cret", b, err)
	}
}

func TestFromTarReproducible(t *testing.T) {
	needTools(t)
	tarball := makeTar(t, sample)
	dir := t.TempDir()
	var imgs [][]byte
	for i, procs := range []int{1, 2} {
		out := filepath.Join(dir, "r"+string(rune('0'+i)))
		if err := FromTar(context.Background(), bytes.NewReader(tarball), out, Options{Epoch: 1700000000, Processors: procs}); err != nil {
			t.Fatalf("FromTar() = %v", err)
		}
		if i == 0 {
			time.Sleep(1100 * time.Millisecond) // a clock-dependent field would now differ
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, b)
	}
	root, err := utcCommand("unsquashfs", "-lln", filepath.Join(dir, "r0")).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(string(root), "\n", 2)[0]; !strings.HasPrefix(first, "drwxr-xr-x 0/0") || !strings.Contains(first, "2023-11-14 22:13 squashfs-root") {
		t.Errorf("root directory = %q, want 0755 root-owned at the epoch", first)
	}
	if !bytes.Equal(imgs[0], imgs[1]) {
		t.Errorf("two FromTar runs gave different images (%d and %d bytes)", len(imgs[0]), len(imgs[1]))
	}
	o, err := exec.Command("unsquashfs", "-s", filepath.Join(dir, "r0")).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(o), "Compression xz") || !strings.Contains(string(o), "2023") {
		t.Errorf("unsquashfs -s = %s, want xz compression and a 2023 creation time", o)
	}
}

func TestMakeWithPseudo(t *testing.T) {
	needTools(t)
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "root/.ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "root/.ssh/authorized_keys"), []byte("ssh-ed25519 AAAA"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "d.sqfs")
	opts := Options{Compression: "gzip", Pseudo: []string{
		"root/.ssh m 700 1000 1000",
		"root/.ssh/authorized_keys m 600 1000 1000",
		"dev d 755 0 0",
		"dev/console c 600 0 0 5 1",
	}}
	if err := Make(context.Background(), src, out, opts); err != nil {
		t.Fatalf("Make() = %v", err)
	}
	got := strings.Join(listing(t, out), "\n")
	want := strings.Join([]string{
		"drwxr-xr-x 0/0 /dev",
		"crw------- 0/0 /dev/console",
		"drwxr-xr-x 0/0 /root", // owner as on disk: the test runs as root in CI
		"drwx------ 1000/1000 /root/.ssh",
		"-rw------- 1000/1000 /root/.ssh/authorized_keys",
	}, "\n")
	if os.Geteuid() != 0 {
		want = strings.Replace(want, "drwxr-xr-x 0/0 /root", "drwxr-xr-x "+itoa(os.Geteuid())+"/"+itoa(os.Getegid())+" /root", 1)
	}
	if got != want {
		t.Errorf("Make listing =\n%s\nwant\n%s", got, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestErrors(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	dir := t.TempDir()
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"bad compression", func() error {
			return FromTar(ctx, bytes.NewReader(nil), filepath.Join(dir, "a"), Options{Compression: "brotli"})
		}, `compression "brotli"`},
		{"level for xz", func() error {
			return FromTar(ctx, bytes.NewReader(nil), filepath.Join(dir, "a"), Options{Compression: "xz", Level: 6})
		}, "only gzip and zstd take one, not xz"},
		{"missing dir", func() error { return Make(ctx, filepath.Join(dir, "nope"), filepath.Join(dir, "b"), Options{}) }, "no such file"},
		{"not a tar", func() error {
			return FromTar(ctx, strings.NewReader(strings.Repeat("garbage!", 200)), filepath.Join(dir, "c"), Options{})
		}, "mksquashfs"},
		{"no binary", func() error {
			return Make(ctx, dir, filepath.Join(dir, "d"), Options{Bin: "no-such-mksquashfs"})
		}, "install squashfs-tools"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); !os.IsNotExist(err) {
		t.Errorf("failed run left its output behind: %v", err)
	}
}

func TestFromTarOptions(t *testing.T) {
	needTools(t)
	out := filepath.Join(t.TempDir(), "z")
	opts := Options{Compression: "zstd", Level: 19, BlockSize: 1 << 20, NoFragments: true}
	if err := FromTar(context.Background(), bytes.NewReader(makeTar(t, sample)), out, opts); err != nil {
		t.Fatalf("FromTar() = %v", err)
	}
	o, err := exec.Command("unsquashfs", "-s", out).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Compression zstd", "compression-level 19", "Block size 1048576", "Fragments are not stored"} {
		if !strings.Contains(string(o), want) {
			t.Errorf("unsquashfs -s = %s, want %q", o, want)
		}
	}
}

// utcCommand is exec.Command with TZ=UTC, so listed times do not depend on
// the machine's time zone.
func utcCommand(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	return cmd
}
