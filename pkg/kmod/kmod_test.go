package kmod

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func openFixture(t *testing.T) *Index {
	t.Helper()
	ix, err := Open("testdata/modules")
	if err != nil {
		t.Fatalf("Open(testdata/modules) = %v", err)
	}
	return ix
}

func names(mods []*Module) []string {
	var out []string
	for _, m := range mods {
		out = append(out, m.Name)
	}
	return out
}

func TestName(t *testing.T) {
	tests := map[string]string{
		"kernel/drivers/usb/storage/usb-storage.ko": "usb_storage",
		"usb-storage":        "usb_storage",
		"crc32c-intel.ko.xz": "crc32c_intel",
		"ext4.ko.zst":        "ext4",
		"nls_cp437":          "nls_cp437",
		"foo.kobj":           "foo.kobj",
	}
	for in, want := range tests {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenMissingDep(t *testing.T) {
	_, err := Open(t.TempDir())
	if !errors.Is(err, ErrNoModulesDep) {
		t.Errorf("Open(empty) = %v, want ErrNoModulesDep", err)
	}
}

func TestResolve(t *testing.T) {
	ix := openFixture(t)
	tests := []struct {
		names []string
		want  []string
	}{
		// crc32c (both providers of the alias) comes before ext4 and jbd2.
		{[]string{"ext4"}, []string{"crc32c_intel", "crc32c_generic", "jbd2", "mbcache", "crc16", "ext4"}},
		{[]string{"fs-ext4"}, []string{"crc32c_intel", "crc32c_generic", "jbd2", "mbcache", "crc16", "ext4"}},
		{[]string{"usb-storage"}, []string{"usbcore", "scsi_mod", "usb_storage"}},
		{[]string{"virtio_blk", "virtio_pci"}, []string{"virtio_ring", "virtio", "virtio_blk", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci"}},
		{[]string{"loop", "squashfs", "fs-squashfs"}, nil}, // built in
		{[]string{"cyc_a"}, []string{"cyc_b", "cyc_a"}},    // soft cycle, missing post: skipped
		{[]string{"nf_tables", "ext4"}, []string{"crc32c_intel", "crc32c_generic", "libcrc32c", "nfnetlink", "nf_tables", "jbd2", "mbcache", "crc16", "ext4"}},
	}
	for _, tt := range tests {
		got, err := ix.Resolve(tt.names...)
		if err != nil {
			t.Errorf("Resolve(%v) = %v", tt.names, err)
			continue
		}
		if !reflect.DeepEqual(names(got), tt.want) {
			t.Errorf("Resolve(%v) = %v, want %v", tt.names, names(got), tt.want)
		}
	}
	if _, err := ix.Resolve("ext4", "no_such_module"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve(no_such_module) = %v, want ErrNotFound", err)
	}
}

// fakeKernel records insertions and fails the modules named in fail.
type fakeKernel struct {
	inserted []string
	fail     map[string]error
}

func (k *fakeKernel) insert(path, params string) error {
	n := Name(path)
	k.inserted = append(k.inserted, n+params)
	return k.fail[n]
}

func TestLoaderLoad(t *testing.T) {
	ix := openFixture(t)
	k := &fakeKernel{fail: map[string]error{
		"crc32c_intel": syscall.ENODEV, // no SSE4.2: the generic one must do
		"crc16":        syscall.EEXIST, // already there
		"scsi_mod":     syscall.ENOEXEC,
	}}
	l := NewLoader(ix, k.insert, nil)
	ctx := context.Background()

	if err := l.Load(ctx, "ext4"); err != nil {
		t.Fatalf("Load(ext4) = %v", err)
	}
	want := []string{"crc32c_intel", "crc32c_generic", "jbd2", "mbcache", "crc16", "ext4"}
	if !reflect.DeepEqual(k.inserted, want) {
		t.Errorf("Load(ext4) inserted %v, want %v", k.inserted, want)
	}
	if got, want := l.Loaded(), []string{"crc32c_generic", "jbd2", "mbcache", "crc16", "ext4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Loaded() = %v, want %v", got, want)
	}

	k.inserted = nil
	if err := l.Load(ctx, "ext4"); err != nil || len(k.inserted) != 0 {
		t.Errorf("Load(ext4) again = %v, inserted %v, want nil, nothing", err, k.inserted)
	}
	if err := l.Load(ctx, "nf_tables"); err != nil {
		t.Fatalf("Load(nf_tables) = %v", err)
	}
	if want := []string{"libcrc32c", "nfnetlink", "nf_tables"}; !reflect.DeepEqual(k.inserted, want) {
		t.Errorf("Load(nf_tables) inserted %v, want %v", k.inserted, want)
	}

	err := l.Load(ctx, "usb-storage")
	if !errors.Is(err, syscall.ENOEXEC) || !strings.Contains(err.Error(), "scsi_mod") {
		t.Errorf("Load(usb-storage) = %v, want an ENOEXEC error naming scsi_mod", err)
	}
	if err := l.Load(ctx, "squashfs"); err != nil {
		t.Errorf("Load(squashfs) (builtin) = %v, want nil", err)
	}
	if err := l.Load(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(nope) = %v, want ErrNotFound", err)
	}
}

func TestLoaderOptionsAndCancel(t *testing.T) {
	ix := openFixture(t)
	if err := ix.AddConfig(strings.NewReader("options virtio_blk queue_depth=8\nblacklist ata_intel_bad\n")); err != nil {
		t.Fatal(err)
	}
	k := &fakeKernel{}
	l := NewLoader(ix, k.insert, nil)
	if err := l.Load(context.Background(), "virtio_blk"); err != nil {
		t.Fatal(err)
	}
	if got := k.inserted[len(k.inserted)-1]; got != "virtio_blkqueue_depth=8" {
		t.Errorf("last insert = %q, want virtio_blk with queue_depth=8", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Load(ctx, "ext4"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled ctx) = %v, want context.Canceled", err)
	}
}

func TestColdplug(t *testing.T) {
	ix := openFixture(t)
	if err := ix.AddConfig(strings.NewReader("blacklist ata_intel_bad\n")); err != nil {
		t.Fatal(err)
	}
	k := &fakeKernel{}
	l := NewLoader(ix, k.insert, nil)
	// testdata/sys has six modaliases: five bus devices (one of them a
	// blacklisted driver's, one no module's) and a class device (input).
	// The tty class device has none.
	n, err := l.Coldplug(context.Background(), "testdata/sys")
	if err != nil || n != 6 {
		t.Fatalf("Coldplug(testdata/sys) = %d, %v, want 6, nil", n, err)
	}
	want := []string{"virtio", "virtio_ring", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_blk"}
	if !reflect.DeepEqual(k.inserted, want) {
		t.Errorf("Coldplug inserted %v, want %v", k.inserted, want)
	}
	if n, err := l.Coldplug(context.Background(), "testdata/sys"); n != 0 || err != nil {
		t.Errorf("Coldplug again = %d, %v, want 0, nil", n, err)
	}
	if _, err := l.Coldplug(context.Background(), "testdata/nosys"); err == nil {
		t.Errorf("Coldplug(missing) = nil, want an error")
	}
}

func TestReadModule(t *testing.T) {
	elf := []byte("\x7fELF fake module body")
	dir := t.TempDir()
	var gz, x, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	if _, err := gw.Write(elf); err != nil {
		t.Fatal(err)
	}
	gw.Close()
	xw, _ := xz.NewWriter(&x)
	if _, err := xw.Write(elf); err != nil {
		t.Fatal(err)
	}
	xw.Close()
	zw, _ := zstd.NewWriter(&zs)
	if _, err := zw.Write(elf); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	files := map[string][]byte{"m.ko": elf, "m.ko.gz": gz.Bytes(), "m.ko.xz": x.Bytes(), "m.ko.zst": zs.Bytes()}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadModule(p)
		if err != nil || !bytes.Equal(got, elf) {
			t.Errorf("ReadModule(%s) = %q, %v, want %q", name, got, err, elf)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.ko.xz"), []byte("not xz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadModule(filepath.Join(dir, "bad.ko.xz")); err == nil {
		t.Errorf("ReadModule(bad.ko.xz) = nil error, want one")
	}
}

func TestLiveModule(t *testing.T) {
	dir := t.TempDir()
	for name, state := range map[string]string{"ext4": "live\n", "ahci": "coming\n", "virtio_blk": ""} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if state != "" {
			if err := os.WriteFile(filepath.Join(dir, name, "initstate"), []byte(state), 0o444); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"ext4", true},
		{"ahci", false},       // still initializing
		{"virtio_blk", false}, // built in: no initstate
		{"loop", false},       // not loaded
	} {
		if got := live(dir, tt.name); got != tt.want {
			t.Errorf("live(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestColdplugReadsNewDevicesOnly checks that a later pass reads the uevent
// files of devices that appeared since, and not again those it read.
func TestColdplugReadsNewDevicesOnly(t *testing.T) {
	ix := openFixture(t)
	sys := t.TempDir()
	device := func(path, alias string) {
		t.Helper()
		dir := filepath.Join(sys, path)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "uevent"), []byte("MODALIAS="+alias+"\n"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	virtioPCI := "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00"
	virtioBlk := "virtio:d00000002v00001AF4"
	device("bus/pci/devices/0000:00:04.0", virtioPCI)
	k := &fakeKernel{}
	l := NewLoader(ix, k.insert, nil)
	if n, err := l.Coldplug(context.Background(), sys); n != 1 || err != nil {
		t.Fatalf("first pass = %d, %v, want 1, nil", n, err)
	}
	// The driver brought a device; the first one's uevent now says
	// something else, which a pass that read it again would find.
	device("bus/virtio/devices/virtio0", virtioBlk)
	device("bus/pci/devices/0000:00:04.0", "pci:v0000DEADd0000BEEFsv00000000sd00000000bc02sc00i00")
	if n, err := l.Coldplug(context.Background(), sys); n != 1 || err != nil {
		t.Fatalf("second pass = %d, %v, want 1 (the new device), nil", n, err)
	}
	if got := k.inserted[len(k.inserted)-1]; got != "virtio_blk" {
		t.Errorf("second pass inserted %v, want virtio_blk last", k.inserted)
	}
}
