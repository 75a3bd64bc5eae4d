package initramfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/ros-os/ros/pkg/kmod"
	"github.com/ros-os/ros/pkg/testkernel"
)

// fixtureModules writes a small depmod-style tree with fake module files.
func fixtureModules(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "6.1.0-test")
	files := map[string]string{
		"modules.dep": "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/jbd2/jbd2.ko\n" +
			"kernel/lib/crc16.ko:\nkernel/fs/jbd2/jbd2.ko:\nkernel/crypto/crc32c_generic.ko:\n" +
			"kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko\n" +
			"kernel/drivers/virtio/virtio.ko:\nkernel/sound/snd.ko:\n",
		"modules.alias":   "# Aliases\nalias fs-ext4 ext4\nalias crypto-crc32c crc32c_generic\nalias virtio:d00000002v* virtio_blk\nalias snd-card snd\n",
		"modules.softdep": "softdep ext4 pre: crypto-crc32c\nsoftdep snd pre: ext4\n",
		"modules.builtin": "kernel/fs/squashfs/squashfs.ko\n",
	}
	for _, m := range []string{"kernel/fs/ext4/ext4.ko", "kernel/lib/crc16.ko", "kernel/fs/jbd2/jbd2.ko", "kernel/crypto/crc32c_generic.ko",
		"kernel/drivers/block/virtio_blk.ko.xz", "kernel/drivers/virtio/virtio.ko", "kernel/sound/snd.ko"} {
		files[m] = "ELF " + m
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// split separates the zstd archive from an appended plain one.
func split(t *testing.T, img []byte) (main, rest []byte, restOffset int) {
	t.Helper()
	end := frameEnd(t, img)
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	main, err = dec.DecodeAll(img[:end], nil)
	if err != nil {
		t.Fatalf("unzstd: %v", err)
	}
	rest, restOffset = img[end:], end
	for len(rest) > 0 && rest[0] == 0 {
		rest = rest[1:]
		restOffset++
	}
	return main, rest, restOffset
}

// frameEnd returns where the zstd frame at the start of b ends, from the
// frame and block headers (RFC 8878, section 3.1.1).
func frameEnd(t *testing.T, b []byte) int {
	t.Helper()
	if len(b) < 6 || !bytes.Equal(b[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Fatalf("no zstd frame: % x", b[:min(len(b), 4)])
	}
	desc := b[4]
	single := desc&0x20 != 0
	n := 5
	if !single {
		n++ // window descriptor
	}
	n += []int{0, 1, 2, 4}[desc&3] // dictionary id
	fcs := []int{0, 2, 4, 8}[desc>>6]
	if fcs == 0 && single {
		fcs = 1
	}
	n += fcs
	for {
		if n+3 > len(b) {
			t.Fatalf("zstd frame cut short at %d", n)
		}
		h := int(b[n]) | int(b[n+1])<<8 | int(b[n+2])<<16
		n += 3
		size := h >> 3
		if (h>>1)&3 == 1 { // RLE: one byte
			size = 1
		}
		n += size
		if h&1 != 0 {
			break
		}
	}
	if desc&4 != 0 {
		n += 4 // content checksum
	}
	return n
}

// cpioList lists an archive with GNU cpio, the oracle for the format.
func cpioList(t *testing.T, archive []byte) []string {
	t.Helper()
	cmd := exec.Command("cpio", "-t", "-v", "--quiet")
	cmd.Stdin = bytes.NewReader(archive)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -t: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func names(listing []string) []string {
	var out []string
	for _, l := range listing {
		f := strings.Fields(l)
		out = append(out, f[len(f)-1])
	}
	return out
}

func needCpio(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("needs cpio (Debian package cpio) as the format oracle")
	}
}

func TestBuildFixture(t *testing.T) {
	needCpio(t)
	dir := fixtureModules(t)
	opt := Options{InitData: []byte("#!init\n"), ModulesDir: dir, Modules: []string{"fs-ext4", "squashfs"}, Drivers: []string{"virtio_blk"}}
	var buf bytes.Buffer
	if err := Build(context.Background(), &buf, opt); err != nil {
		t.Fatalf("Build() = %v", err)
	}
	main, rest, _ := split(t, buf.Bytes())
	if len(rest) != 0 {
		t.Errorf("Build() without rootfs left %d bytes after the zstd archive", len(rest))
	}
	listing := cpioList(t, main)
	got := names(listing)
	want := []string{"dev", "dev/console", "etc", "etc/ros-initrd", "etc/ros-initrd/modules", "init", "lib", "lib/modules",
		"lib/modules/6.1.0-test", "lib/modules/6.1.0-test/kernel", "lib/modules/6.1.0-test/kernel/crypto",
		"lib/modules/6.1.0-test/kernel/crypto/crc32c_generic.ko", "lib/modules/6.1.0-test/kernel/drivers",
		"lib/modules/6.1.0-test/kernel/drivers/block", "lib/modules/6.1.0-test/kernel/drivers/block/virtio_blk.ko.xz",
		"lib/modules/6.1.0-test/kernel/drivers/virtio", "lib/modules/6.1.0-test/kernel/drivers/virtio/virtio.ko",
		"lib/modules/6.1.0-test/kernel/fs", "lib/modules/6.1.0-test/kernel/fs/ext4", "lib/modules/6.1.0-test/kernel/fs/ext4/ext4.ko",
		"lib/modules/6.1.0-test/kernel/fs/jbd2", "lib/modules/6.1.0-test/kernel/fs/jbd2/jbd2.ko",
		"lib/modules/6.1.0-test/kernel/lib", "lib/modules/6.1.0-test/kernel/lib/crc16.ko",
		"lib/modules/6.1.0-test/modules.alias", "lib/modules/6.1.0-test/modules.builtin", "lib/modules/6.1.0-test/modules.dep",
		"lib/modules/6.1.0-test/modules.softdep", "proc", "root", "run", "sys", "tmp"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Build() members =\n%v\nwant\n%v", got, want)
	}
	for _, l := range listing {
		if strings.HasSuffix(l, " dev/console") && !strings.HasPrefix(l, "crw-------") {
			t.Errorf("dev/console listed as %q, want a 0600 character device", l)
		}
		if strings.HasSuffix(l, " init") && !strings.HasPrefix(l, "-rwxr-xr-x") {
			t.Errorf("init listed as %q, want mode 0755", l)
		}
	}

	// The index files of the archive are a consistent, smaller tree.
	out := t.TempDir()
	cmd := exec.Command("cpio", "-i", "-d", "--quiet", "--no-absolute-filenames")
	cmd.Dir = out
	cmd.Stdin = bytes.NewReader(bytes.ReplaceAll(main, []byte("dev/console"), []byte("dev/consolx"))) // no mknod needed
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v: %s", err, b)
	}
	ix, err := kmod.Open(filepath.Join(out, "lib/modules/6.1.0-test"))
	if err != nil {
		t.Fatalf("kmod.Open(extracted) = %v", err)
	}
	mods, err := ix.Resolve(append(opt.Modules, opt.Drivers...)...)
	if err != nil {
		t.Fatalf("Resolve(extracted) = %v", err)
	}
	var gotMods []string
	for _, m := range mods {
		gotMods = append(gotMods, m.Name)
	}
	if want := []string{"crc32c_generic", "jbd2", "crc16", "ext4", "virtio", "virtio_blk"}; !reflect.DeepEqual(gotMods, want) {
		t.Errorf("Resolve(extracted) = %v, want %v", gotMods, want)
	}
	if ix.Lookup("snd-card") != nil {
		t.Errorf("extracted modules.alias still names snd, which was not included")
	}
	list, _ := os.ReadFile(filepath.Join(out, ModuleListPath))
	if string(list) != "fs-ext4\nsquashfs\n" {
		t.Errorf("%s = %q, want the requested modules and no drivers (coldplug loads those)", ModuleListPath, list)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "init")); string(b) != "#!init\n" {
		t.Errorf("init = %q, want the InitData", b)
	}
}

func TestBuildReproducibleWithRootfs(t *testing.T) {
	needCpio(t)
	dir := fixtureModules(t)
	sq := filepath.Join(t.TempDir(), "root.sqfs")
	payload := bytes.Repeat([]byte("hsqs payload "), 1001) // not a multiple of 4
	if err := os.WriteFile(sq, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	initPath := filepath.Join(t.TempDir(), "ros-initrd")
	if err := os.WriteFile(initPath, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	opt := Options{Init: initPath, ModulesDir: dir, Modules: []string{"ext4"}, Drivers: []string{}, RootfsSquashfs: sq}
	var a, b bytes.Buffer
	if err := Build(context.Background(), &a, opt); err != nil {
		t.Fatalf("Build() = %v", err)
	}
	// Touch the inputs: the output must not change.
	if err := os.Chtimes(filepath.Join(dir, "modules.dep"), time_(), time_()); err != nil {
		t.Fatal(err)
	}
	if err := Build(context.Background(), &b, opt); err != nil {
		t.Fatalf("Build() again = %v", err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("Build() twice gave different bytes (%d and %d)", a.Len(), b.Len())
	}
	_, rest, off := split(t, a.Bytes())
	if off%4 != 0 {
		t.Errorf("appended archive at offset %d, want a multiple of 4", off)
	}
	if got := names(cpioList(t, rest)); !reflect.DeepEqual(got, []string{RootfsPath}) {
		t.Errorf("appended archive = %v, want [%s]", got, RootfsPath)
	}
	cmd := exec.Command("cpio", "-i", "--quiet", "--to-stdout", RootfsPath)
	cmd.Stdin = bytes.NewReader(rest)
	got, err := cmd.Output()
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("cpio -i --to-stdout %s = %d bytes, %v, want the %d-byte payload", RootfsPath, len(got), err, len(payload))
	}
}

func TestBuildErrors(t *testing.T) {
	dir := fixtureModules(t)
	tests := []struct {
		name string
		opt  Options
		want error
	}{
		{"no init", Options{ModulesDir: dir}, ErrNoInit},
		{"unknown module", Options{InitData: []byte{1}, ModulesDir: dir, Modules: []string{"nope"}, Drivers: []string{}}, kmod.ErrNotFound},
		{"unknown driver", Options{InitData: []byte{1}, ModulesDir: dir, Modules: []string{"ext4"}, Drivers: []string{"nope"}}, kmod.ErrNotFound},
		{"no depmod", Options{InitData: []byte{1}, ModulesDir: t.TempDir()}, kmod.ErrNoModulesDep},
		{"missing rootfs", Options{InitData: []byte{1}, RootfsSquashfs: "/nonexistent/rootfs.squashfs"}, os.ErrNotExist},
	}
	for _, tt := range tests {
		err := Build(context.Background(), io.Discard, tt.opt)
		if !errors.Is(err, tt.want) {
			t.Errorf("Build(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestBuildDebian builds the real stage-1 module set from Debian's kernel
// when one is unpacked, and reports its size.
func TestBuildDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses the real module set: skipped under -short")
	}
	needCpio(t)
	k := testkernel.Get(t)
	var buf bytes.Buffer
	if err := Build(context.Background(), &buf, Options{InitData: make([]byte, 3<<20), ModulesDir: k.ModulesDir}); err != nil {
		t.Fatalf("Build(DefaultModules) = %v", err)
	}
	main, _, _ := split(t, buf.Bytes())
	var kos []string
	for _, n := range names(cpioList(t, main)) {
		if strings.HasSuffix(n, ".ko") {
			kos = append(kos, filepath.Base(n))
		}
	}
	sort.Strings(kos)
	for _, want := range []string{"ext4.ko", "crc32c_generic.ko", "jbd2.ko", "virtio_blk.ko", "squashfs.ko", "overlay.ko", "usb-storage.ko", "ata_piix.ko"} {
		if i := sort.SearchStrings(kos, want); i == len(kos) || kos[i] != want {
			t.Errorf("Build(DefaultModules) lacks %s", want)
		}
	}
	t.Logf("%s: %d modules, %d bytes uncompressed (with a 3 MiB zero init), %d bytes compressed", k.Version, len(kos), len(main), buf.Len())
}

func time_() time.Time { return time.Unix(1700000000, 0) }
