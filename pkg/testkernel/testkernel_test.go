package testkernel

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCacheDir(t *testing.T) {
	t.Setenv("ROS_CACHE", "/x/cache")
	if d := CacheDir(); d != "/x/cache/testkernel" {
		t.Errorf("CacheDir() = %q, want /x/cache/testkernel", d)
	}
	t.Setenv("ROS_CACHE", "")
	t.Setenv("HOME", "/home/u")
	if d := CacheDir(); d != "/home/u/.cache/ros/testkernel" {
		t.Errorf("CacheDir() = %q, want /home/u/.cache/ros/testkernel", d)
	}
}

// fakeKernel makes an unpacked, indexed package tree under dir.
func fakeKernel(t *testing.T, dir, name, version string, indexed bool) {
	t.Helper()
	root := filepath.Join(dir, name)
	files := map[string]string{"boot/vmlinuz-" + version: "bzImage", "lib/modules/" + version + "/kernel/x.ko": "ko"}
	if indexed {
		files["lib/modules/"+version+"/modules.dep"] = "kernel/x.ko:\n"
	}
	for f, data := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindPicksNewest(t *testing.T) {
	dir := t.TempDir()
	for _, abi := range []string{"9", "12", "10"} {
		v := "6.1.0-" + abi + "-amd64"
		fakeKernel(t, dir, "linux-image-"+v+"_6.1.1-1_amd64", v, true)
	}
	fakeKernel(t, dir, "linux-image-6.1.0-99-amd64_6.1.1-1_amd64", "6.1.0-99-amd64", false) // no depmod index
	fakeKernel(t, dir, ".fetch-123", "6.1.0-77-amd64", true)                                // being fetched
	k, ok := find(dir)
	if !ok || k.Version != "6.1.0-12-amd64" {
		t.Fatalf("find() = %+v, %v, want version 6.1.0-12-amd64", k, ok)
	}
	root := filepath.Join(dir, "linux-image-6.1.0-12-amd64_6.1.1-1_amd64")
	want := Kernel{Root: root, Version: "6.1.0-12-amd64", Vmlinuz: filepath.Join(root, "boot/vmlinuz-6.1.0-12-amd64"),
		ModulesDir: filepath.Join(root, "lib/modules/6.1.0-12-amd64")}
	if k != want {
		t.Errorf("find() = %+v, want %+v", k, want)
	}
	if k, ok := find(t.TempDir()); ok {
		t.Errorf("find(empty) = %+v, true, want false", k)
	}
}

func TestNaturalLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"6.1.0-9", "6.1.0-12", true},
		{"6.1.0-12", "6.1.0-9", false},
		{"6.1.0-09", "6.1.0-9", false},
		{"a", "b", true},
		{"a1", "a1x", true},
		{"same", "same", false},
	}
	for _, tt := range tests {
		if got := naturalLess(tt.a, tt.b); got != tt.want {
			t.Errorf("naturalLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestFetch(t *testing.T) {
	if testing.Short() {
		t.Skip("may download a kernel package: skipped under -short")
	}
	k := Get(t)
	for _, p := range []string{k.Vmlinuz, filepath.Join(k.ModulesDir, "modules.dep"), filepath.Join(k.ModulesDir, "modules.softdep")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Fetch() = %+v: %v", k, err)
		}
	}
}
