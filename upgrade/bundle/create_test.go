package bundle

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateOpen(t *testing.T) {
	priv, _ := testKey(t)
	dir := t.TempDir()
	payload := writePayload(t, dir, 100_000)
	path := filepath.Join(dir, "ros-v2.bundle")
	m, err := CreateFile(context.Background(), path, payload, testManifest("v2"), priv)
	if err != nil {
		t.Fatalf("CreateFile: %v", err)
	}
	if m.Format != 1 || m.Compatible != "ros-amd64" || m.Payload.Size != 100_000 || len(m.Payload.SHA256) != 64 {
		t.Errorf("CreateFile() manifest = %+v, want format 1, ros-amd64, 100000 bytes, a sha256", m)
	}
	b, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer b.Close()
	if got := b.Manifest(); got != m {
		t.Errorf("Open().Manifest() = %+v, want %+v", got, m)
	}
	if !b.Signed() {
		t.Errorf("Open().Signed() = false, want true")
	}
	got, err := io.ReadAll(b.Payload())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(payload)
	if !bytes.Equal(got, want) {
		t.Errorf("Payload() differs from the payload file (%d vs %d bytes)", len(got), len(want))
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("CreateFile left %s.tmp behind", path)
	}

	// Oracle: GNU tar lists the entries in the contract's order.
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("needs tar")
	}
	out, err := exec.Command("tar", "-tf", path).Output()
	if err != nil {
		t.Fatalf("tar -tf: %v", err)
	}
	if got, want := strings.Fields(string(out)), []string{ManifestName, SignatureName, PayloadName}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tar -tf = %v, want %v", got, want)
	}
}

func TestCreateUnsigned(t *testing.T) {
	b, err := openBytes(makeBundle(t, testManifest("v2"), 1000, nil))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if b.Signed() || b.Signature() != nil {
		t.Errorf("unsigned bundle: Signed() = true, want false")
	}
}

func TestCreateRefuses(t *testing.T) {
	dir := t.TempDir()
	payload := writePayload(t, dir, 10)
	tests := []struct {
		name string
		m    Manifest
	}{
		{"no version", Manifest{Arch: "amd64"}},
		{"no arch", Manifest{Version: "v1"}},
		{"version with newline", Manifest{Version: "v1\nros_good=B", Arch: "amd64"}},
		{"cmdline with newline", Manifest{Version: "v1", Arch: "amd64", Cmdline: "a\nb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Create(context.Background(), io.Discard, payload, tt.m, nil)
			if err == nil {
				t.Errorf("Create(%+v) = nil error, want one", tt.m)
			}
		})
	}
	if _, err := Create(context.Background(), io.Discard, filepath.Join(dir, "missing"), testManifest("v1"), nil); err == nil {
		t.Errorf("Create(missing payload) = nil error, want one")
	}
}
