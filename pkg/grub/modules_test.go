package grub

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestModuleDirFor(t *testing.T) {
	ctx := context.Background()
	good := t.TempDir()
	if err := os.WriteFile(filepath.Join(good, "kernel.img"), []byte("core"), 0o644); err != nil {
		t.Fatal(err)
	}
	cached := t.TempDir()
	seeded := filepath.Join(cached, "grub-modules", EFIModulesSuite, "x86_64-efi")
	if err := os.MkdirAll(seeded, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seeded, "kernel.img"), []byte("core"), 0o644); err != nil {
		t.Fatal(err)
	}
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, format, env, cache string
		want                     string
		wantErr                  bool
	}{
		{name: "fetch fails: the error says how to do without", format: "x86_64-efi", cache: notADir, wantErr: true},
		{name: "BIOS uses the host's modules", format: "i386-pc", env: good, want: ModuleDir("i386-pc")},
		{name: "env override", format: "x86_64-efi", env: good, want: good},
		{name: "env override without a core image", format: "x86_64-efi", env: t.TempDir(), wantErr: true},
		{name: "fetched before", format: "x86_64-efi", cache: cached, want: seeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EFIModulesEnv, tt.env)
			got, err := ModuleDirFor(ctx, tt.format, tt.cache)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ModuleDirFor(%s) = %q, %v; want %q (error %v)", tt.format, got, err, tt.want, tt.wantErr)
			}
			if err != nil && tt.env == "" && !strings.Contains(err.Error(), EFIModulesEnv+"=") {
				t.Errorf("ModuleDirFor(%s) error %q does not name %s", tt.format, err, EFIModulesEnv)
			}
		})
	}
}

// TestFetchEFIModules fetches the UEFI modules from Debian into the shared
// cache (once per machine) and checks what debpkg brought: the core image
// and the modules the disk and ISO images are built from.
func TestFetchEFIModules(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads Debian packages")
	}
	cache, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EFIModulesEnv, "")
	dir, err := ModuleDirFor(context.Background(), "x86_64-efi", cache)
	if err != nil {
		t.Fatalf("fetch %s from %s: %v", EFIModulesPackage, EFIModulesSuite, err)
	}
	var missing []string
	for _, m := range append(EFIImage().Modules, "kernel.img", "moddep.lst") {
		name := m
		if filepath.Ext(m) == "" {
			name = m + ".mod"
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s lacks %v", dir, missing)
	}
	if _, err := modulesID(dir); err != nil {
		t.Error(err)
	}
}
