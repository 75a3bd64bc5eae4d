package osbuild

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/ocistore"
)

// compareYAML needs no image, so LinuxKit and ros can both build it offline.
const compareYAML = `files:
  - path: etc/motd
    contents: "hello\n"
  - path: etc/ros
    directory: true
  - path: etc/ros/secret
    contents: "s3cret"
    mode: "0600"
    uid: 1000
  - path: usr/bin/tool
    contents: "#!/bin/sh\n"
    mode: "0755"
  - path: etc/link
    symlink: motd
`

// TestCompareWithLinuxKit builds the same YAML with LinuxKit and with ros
// and compares the trees (paths, types, modes, owners, contents). It runs
// only where a linuxkit binary is on PATH.
func TestCompareWithLinuxKit(t *testing.T) {
	lk, err := exec.LookPath("linuxkit")
	if err != nil {
		t.Skip("no linuxkit binary on PATH: the side-by-side build with LinuxKit is skipped")
	}
	dir := t.TempDir()
	yml := filepath.Join(dir, "cmp.yml")
	if err := os.WriteFile(yml, []byte(compareYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lk, "build", "--format", "tar", "--dir", filepath.Join(dir, "lk"), "--name", "cmp", yml).CombinedOutput()
	if err != nil {
		t.Fatalf("linuxkit build: %v\n%s", err, out)
	}
	store, err := ocistore.Open(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(t.Context(), Options{Files: []string{yml}, Dir: filepath.Join(dir, "ros"), Name: "cmp", Store: store, Offline: true}); err != nil {
		t.Fatal(err)
	}
	want, got := tarSummary(t, filepath.Join(dir, "lk", "cmp.tar")), tarSummary(t, filepath.Join(dir, "ros", "cmp.tar"))
	if want != got {
		t.Errorf("trees differ:\nlinuxkit:\n%s\nros:\n%s", want, got)
	}
}

// tarSummary lists the entries the files section wrote, one line each.
func tarSummary(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if !strings.HasPrefix(name, "etc/") && !strings.HasPrefix(name, "usr/") {
			continue
		}
		data, _ := io.ReadAll(tr)
		lines = append(lines, fmt.Sprintf("%s %c %o %d:%d %q %q", name, h.Typeflag, h.Mode&0o7777, h.Uid, h.Gid, h.Linkname, data))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestBuildPassesCompression checks that Options.Compression reaches the
// output formats (ros build --compression).
func TestBuildPassesCompression(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "cmp.yml")
	if err := os.WriteFile(yml, []byte(compareYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := ocistore.Open(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range []string{"", "gzip"} {
		var got *assemble.OutputOptions
		capture := func(_ context.Context, _ string, tree io.Reader, oo assemble.OutputOptions) error {
			got = &oo
			_, err := io.Copy(io.Discard, tree)
			return err
		}
		_, err := Build(t.Context(), Options{Files: []string{yml}, Formats: []string{"capture"}, Dir: dir, Store: store, Offline: true,
			Outputs: assemble.Outputs{"capture": capture}, Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || got.Compression != comp {
			t.Errorf("Compression %q: the output got %+v", comp, got)
		}
	}
}
