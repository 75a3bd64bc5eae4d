package bundle

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testManifest is what the tests build bundles from.
func testManifest(version string) Manifest {
	return Manifest{
		Version:   version,
		Arch:      "amd64",
		BuildTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Cmdline:   "console=ttyS0 panic=5",
	}
}

// writePayload writes n pseudo-random bytes (seeded, so reproducible).
func writePayload(t testing.TB, dir string, n int) string {
	t.Helper()
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 42))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, "payload.squashfs")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// makeBundle returns the bytes of a bundle of an n-byte payload.
func makeBundle(t testing.TB, m Manifest, n int, key *PrivateKey) []byte {
	t.Helper()
	payload := writePayload(t, t.TempDir(), n)
	var buf bytes.Buffer
	if _, err := Create(context.Background(), &buf, payload, m, key); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return buf.Bytes()
}

func testKey(t testing.TB) (*PrivateKey, PublicKey) {
	t.Helper()
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func openBytes(data []byte) (*Bundle, error) {
	return OpenReader(bytes.NewReader(data), int64(len(data)), "test.bundle")
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
