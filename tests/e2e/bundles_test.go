package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ros-os/ros/pkg/disk"
	"github.com/ros-os/ros/pkg/qemu"
	"github.com/ros-os/ros/upgrade/bundle"
)

// upgradeSet is what the upgrade tests need: v1 images and bundles of v2
// and of two broken v3s, signed with the e2e key.
type upgradeSet struct {
	v1      images
	v2      string // bundle files
	v3Init  string // v3 whose init fails (stage 1 reboots)
	v3Panic string // v3 whose kernel panics (panic=5 reboots)
	signKey string
}

var (
	upgradeOnce  sync.Once
	upgradeBuilt upgradeSet
	upgradeErr   error
)

// brokenCmdline is the default command line plus what breaks it.
const defaultCmdline = "console=tty0 console=ttyS0,115200 panic=5"

func upgradeImages(t *testing.T) upgradeSet {
	t.Helper()
	v1 := testImages(t)
	upgradeOnce.Do(func() {
		s := upgradeSet{v1: v1}
		for _, b := range []struct {
			out     *string
			name    string
			version string
			layer   string
		}{
			{&s.v2, "ros-e2e-v2", "v2", ""},
			{&s.v3Init, "ros-e2e-v3-init", "v3", "kernel:\n  cmdline: \"" + defaultCmdline + " init=/sbin/missing\"\n"},
			{&s.v3Panic, "ros-e2e-v3-panic", "v3", "kernel:\n  cmdline: \"" + defaultCmdline + " rdinit=/missing\"\n"},
		} {
			img := buildImages(buildSpec{name: b.name, files: []string{"../../yml/ros.yml"}, formats: []string{"bundle"}, version: b.version, layer: b.layer})
			if img.err != nil {
				upgradeErr = fmt.Errorf("build %s: %w", b.name, img.err)
				return
			}
			*b.out = img.Base + ".bundle"
		}
		s.signKey = filepath.Join(filepath.Dir(v1.Base), "e2e-sign.key")
		upgradeBuilt = s
	})
	if upgradeErr != nil {
		t.Fatal(upgradeErr)
	}
	return upgradeBuilt
}

// copyDisk copies a raw disk image for one test.
func copyDisk(t *testing.T, raw string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(raw))
	in, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// slotHashes hashes both slot partitions of a disk image.
func slotHashes(t *testing.T, raw string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, r := range slotReaders(t, raw) {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			t.Fatal(err)
		}
		out[name] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// slotReaders opens a disk image and returns readers of its slot
// partitions, by slot name ("A", "B"); the file closes with the test.
func slotReaders(t *testing.T, raw string) map[string]*io.SectionReader {
	t.Helper()
	l, err := disk.ReadLayout(raw)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	out := map[string]*io.SectionReader{}
	for _, name := range []string{"A", "B"} {
		p, err := l.Slot(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = io.NewSectionReader(f, p.Start, p.Size)
	}
	return out
}

// bundleServer serves files by name over HTTP to the guest, at
// http://<guestAddr>/NAME.
type bundleServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	files map[string]string // URL path -> host file
}

// guestBundleAddr is where the guest reaches the test's bundle server.
const guestBundleAddr = "169.254.169.254:8080"

func newBundleServer(t *testing.T) *bundleServer {
	s := &bundleServer{files: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		path, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, path)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// add serves file at /name and returns the guest's URL of it.
func (s *bundleServer) add(name, file string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files["/"+name] = file
	return "http://" + guestBundleAddr + "/" + name
}

func (s *bundleServer) forward() qemu.GuestForward {
	return qemu.GuestForward{Addr: guestBundleAddr, Target: s.srv.Listener.Addr().String()}
}

// badBundles derives from the good v2 bundle one bundle per refusal the
// upgrade must make, and returns them by name with the words the refusal
// must contain.
func badBundles(t *testing.T, v2, signKey string) map[string]struct{ file, want string } {
	t.Helper()
	dir := t.TempDir()
	b, err := bundle.Open(v2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	man := b.Manifest()
	payload := filepath.Join(dir, "payload.squashfs")
	writeFrom(t, payload, b.Payload())
	key, err := bundle.ReadPrivateKeyFile(signKey, "")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string, m bundle.Manifest, k *bundle.PrivateKey) string {
		out := filepath.Join(dir, name+".bundle")
		m.Payload = bundle.PayloadInfo{}
		if _, err := bundle.CreateFile(context.Background(), out, payload, m, k); err != nil {
			t.Fatal(err)
		}
		return out
	}
	whole, err := os.ReadFile(v2)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.bundle")
	if err := os.WriteFile(truncated, whole[:len(whole)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	flipped := filepath.Join(dir, "flipped.bundle")
	_, poff, _ := b.Payload().Outer()
	mod := append([]byte(nil), whole...)
	mod[poff+int64(man.Payload.Size)/2] ^= 0x01
	if err := os.WriteFile(flipped, mod, 0o644); err != nil {
		t.Fatal(err)
	}
	wrongArch := man
	wrongArch.Arch = "arm64"
	wrongArch.Compatible = "ros-arm64"
	older := man
	older.Version = "v0"
	badSig := create("badsig", man, key)
	corruptSignature(t, badSig)
	return map[string]struct{ file, want string }{
		"truncated":   {truncated, "truncated"},
		"flipped":     {flipped, "hash mismatch"},
		"bad-sig":     {badSig, "signature"},
		"unknown-key": {create("unknown-key", man, other), "unknown key"},
		"unsigned":    {create("unsigned", man, nil), "not signed"},
		"wrong-arch":  {create("wrong-arch", wrongArch, key), "architecture"},
		"downgrade":   {create("downgrade", older, key), "downgrade"},
	}
}

func writeFrom(t *testing.T, path string, r io.Reader) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// corruptSignature changes one character of the signature line of a
// signed bundle file (still valid base64, so only the check can catch it).
func corruptSignature(t *testing.T, path string) {
	t.Helper()
	b, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sig := b.Signature()
	b.Close()
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(whole, sig)
	nl := bytes.IndexByte(sig, '\n')
	if at < 0 || nl < 0 {
		t.Fatalf("signature not found in %s", path)
	}
	i := at + nl + 10 // inside the second line: the signature itself
	if whole[i] == 'A' {
		whole[i] = 'B'
	} else {
		whole[i] = 'A'
	}
	if err := os.WriteFile(path, whole, 0o644); err != nil {
		t.Fatal(err)
	}
}
