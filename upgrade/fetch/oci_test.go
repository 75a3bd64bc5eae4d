package fetch

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ros-os/ros/upgrade/bundle"
)

// bundleImage makes a real (unsigned) bundle and its image.
func bundleImage(t *testing.T) ([]byte, v1.Image) {
	t.Helper()
	dir := t.TempDir()
	payload := filepath.Join(dir, "payload.squashfs")
	if err := os.WriteFile(payload, randomData(1<<20+3, 12), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	m := bundle.Manifest{Version: "v2", Arch: "amd64", BuildTime: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := bundle.Create(context.Background(), &buf, payload, m, nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	b, err := bundle.OpenReader(bytes.NewReader(data), int64(len(data)), "test.bundle")
	if err != nil {
		t.Fatal(err)
	}
	img, err := bundle.ToImage(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return data, img
}

func TestFetchOCIArchive(t *testing.T) {
	data, img := bundleImage(t)
	dir := t.TempDir()
	arch := filepath.Join(dir, "ros-v2.oci.tar")
	f, _ := os.Create(arch)
	if err := bundle.WriteArchive(f, img, "v2"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, src := range []string{"oci-archive:" + arch, "oci-archive:" + arch + ":v2"} {
		dst := filepath.Join(t.TempDir(), "ros.bundle")
		var calls []int64
		err := Fetch(context.Background(), src, dst, Options{SHA256: sum(data), Size: int64(len(data)),
			Progress: func(done, total int64) { calls = append(calls, done) }})
		if err != nil {
			t.Fatalf("Fetch(%s): %v", src, err)
		}
		checkDone(t, dst, data)
		checkProgress(t, calls, int64(len(data)))
	}
	dst := filepath.Join(dir, "x.bundle")
	if err := Fetch(context.Background(), "oci-archive:"+arch+":v9", dst, Options{}); err == nil || !strings.Contains(err.Error(), "v9") {
		t.Errorf("Fetch(archive, tag v9) = %v, want an error naming v9", err)
	}
	if err := Fetch(context.Background(), "oci-archive:"+filepath.Join(dir, "none.tar"), dst, Options{}); err == nil {
		t.Errorf("Fetch(missing archive) = nil error, want one")
	}
}

func TestFetchRegistry(t *testing.T) {
	data, img := bundleImage(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/ros/bundle:v2"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	for _, src := range []string{ref, "docker://" + ref} {
		dst := filepath.Join(t.TempDir(), "ros.bundle")
		if err := Fetch(context.Background(), src, dst, Options{SHA256: sum(data), Client: srv.Client()}); err != nil {
			t.Fatalf("Fetch(%s): %v", src, err)
		}
		checkDone(t, dst, data)
	}
	missing := strings.TrimSuffix(ref, ":v2") + ":v9"
	err = Fetch(context.Background(), missing, filepath.Join(t.TempDir(), "x"), Options{})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Fetch(%s) = %v, want an error naming it", missing, err)
	}
	// Bundle integrity survives the trip: the file opens and verifies.
	dst := filepath.Join(t.TempDir(), "ros.bundle")
	if err := Fetch(context.Background(), ref, dst, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Verify(context.Background(), bundle.Policy{Insecure: true, Arch: "amd64"}); err != nil {
		t.Errorf("Verify(bundle from registry) = %v", err)
	}
}
