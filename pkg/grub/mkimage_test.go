package grub

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
)

func TestBuildCached(t *testing.T) {
	if _, err := exec.LookPath("grub-mkimage"); err != nil {
		t.Skip("needs grub-mkimage (grub-common)")
	}
	tests := []struct {
		img   Image
		magic []byte
	}{
		{EFIImage(), []byte("MZ")},
		{BIOSImage(2), nil},
		{ISOEFIImage("2031-02-03-04-05-06-07"), []byte("MZ")},
		{ISOBIOSImage("2031-02-03-04-05-06-07"), nil},
	}
	// The UEFI modules come from the shared cache (TestFetchEFIModules),
	// not from a download into each test's empty one.
	if os.Getenv(EFIModulesEnv) == "" {
		if shared, err := DefaultCacheDir(); err == nil {
			if dir, err := ModuleDirFor(context.Background(), "x86_64-efi", shared); err == nil {
				t.Setenv(EFIModulesEnv, dir)
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.img.Format, func(t *testing.T) {
			if _, err := os.Stat(ModuleDir(tt.img.Platform())); err != nil {
				t.Skipf("needs GRUB modules in %s", ModuleDir(tt.img.Platform()))
			}
			cache := t.TempDir()
			path, err := Build(context.Background(), tt.img, cache)
			if err != nil {
				t.Fatalf("Build(%s) = %v", tt.img.Format, err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.magic != nil && !bytes.HasPrefix(b, tt.magic) {
				t.Errorf("Build(%s) starts % x, want % x", tt.img.Format, b[:2], tt.magic)
			}
			if !bytes.Contains(b, []byte(tt.img.Prefix)) && tt.img.Format == "x86_64-efi" {
				t.Errorf("Build(%s) does not embed prefix %s", tt.img.Format, tt.img.Prefix)
			}
			fi, _ := os.Stat(path)
			again, err := Build(context.Background(), tt.img, cache)
			if err != nil || again != path {
				t.Fatalf("Build again = %s, %v; want cached %s", again, err, path)
			}
			fi2, _ := os.Stat(again)
			if !fi2.ModTime().Equal(fi.ModTime()) {
				t.Errorf("Build again rebuilt the image instead of using the cache")
			}
			t.Logf("%s: %d bytes", tt.img.Format, len(b))
		})
	}
}

func TestImageKey(t *testing.T) {
	a, b := EFIImage(), EFIImage()
	b.Modules = append(b.Modules, "lvm")
	if a.Key("v1") == b.Key("v1") || a.Key("v1") == a.Key("v2") || a.Key("v1") != EFIImage().Key("v1") {
		t.Errorf("Image.Key does not follow modules and version")
	}
}

func TestBIOSPrefix(t *testing.T) {
	if got, want := BIOSImage(2).Prefix, "(,gpt2)/EFI/BOOT"; got != want {
		t.Errorf("BIOSImage(2).Prefix = %s, want %s", got, want)
	}
}
