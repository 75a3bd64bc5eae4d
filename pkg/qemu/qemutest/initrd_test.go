package qemutest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestWriteInitrd checks the archive with GNU cpio as an independent reader.
func TestWriteInitrd(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("needs cpio")
	}
	var buf bytes.Buffer
	files := append(InitrdFiles(),
		File{Name: "init", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
		File{Name: "modules/a/b.ko", Mode: 0o644, Data: []byte("12345")})
	if err := WriteInitrd(&buf, files); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d not 4-aligned", buf.Len())
	}
	cmd := exec.Command("cpio", "-t", "-v", "--quiet")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v: %s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"crw-------", "5,   1", " dev/console",
		"-rwxr-xr-x", " init",
		"drwxr-xr-x", " modules/a\n",
		"-rw-r--r--", "5 ", " modules/a/b.ko",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("cpio -t -v lacks %q:\n%s", want, text)
		}
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 8 { // dev dev/console init modules modules/a modules/a/b.ko proc sys
		t.Errorf("cpio lists %d entries, want 8:\n%s", len(lines), text)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("ROS_CACHE", "/x/cache")
	if d, err := CacheDir(); err != nil || d != "/x/cache" {
		t.Errorf("CacheDir() = %q, %v, want /x/cache", d, err)
	}
	t.Setenv("ROS_CACHE", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := CacheDir(); d != "/home/u/.cache/ros" {
		t.Errorf("CacheDir() = %q, want /home/u/.cache/ros", d)
	}
}

func TestCachedKernelPicksNewest(t *testing.T) {
	base := t.TempDir()
	for _, abi := range []string{"9", "12", "10"} {
		rel := "6.1.0-" + abi + "-amd64"
		dir := base + "/linux-image-" + rel + "/boot"
		os.MkdirAll(dir, 0o755)
		os.WriteFile(dir+"/vmlinuz-"+rel, []byte("k"), 0o644)
	}
	os.MkdirAll(base+"/.tmp-123/boot", 0o755)
	kp, err := cachedKernel(base)
	if err != nil || kp.Release != "6.1.0-12-amd64" {
		t.Errorf("cachedKernel() = %+v, %v, want release 6.1.0-12-amd64", kp, err)
	}
}
