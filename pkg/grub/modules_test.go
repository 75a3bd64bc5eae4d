package grub

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestExtractDir(t *testing.T) {
	type entry struct {
		name string
		typ  byte
		body string
	}
	tests := []struct {
		name    string
		entries []entry
		want    map[string]string
	}{
		{
			name: "files directly inside",
			entries: []entry{
				{"./usr/lib/grub/x86_64-efi/", tar.TypeDir, ""},
				{"./usr/lib/grub/x86_64-efi/kernel.img", tar.TypeReg, "core"},
				{"usr/lib/grub/x86_64-efi/linux.mod", tar.TypeReg, "linux"},
				{"./usr/lib/grub/i386-pc/linux.mod", tar.TypeReg, "bios"},
			},
			want: map[string]string{"kernel.img": "core", "linux.mod": "linux"},
		},
		{
			name: "subdirectories, links and escapes skipped",
			entries: []entry{
				{"./usr/lib/grub/x86_64-efi/monolithic/grubx64.efi", tar.TypeReg, "mono"},
				{"./usr/lib/grub/x86_64-efi/link.mod", tar.TypeSymlink, ""},
				{"./usr/lib/grub/x86_64-efi/../../../../etc/passwd", tar.TypeReg, "root"},
				{"../usr/lib/grub/x86_64-efi/ok.mod", tar.TypeReg, "ok"},
			},
			want: map[string]string{"ok.mod": "ok"},
		},
		{name: "nothing there", entries: []entry{{"./etc/grub.d/00_header", tar.TypeReg, "x"}}, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range tt.entries {
				h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body))}
				if e.typ == tar.TypeSymlink {
					h.Linkname = "/etc/shadow"
				}
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				if _, err := tw.Write([]byte(e.body)); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			stage := filepath.Join(t.TempDir(), "x86_64-efi")
			if err := extractDir(&buf, "usr/lib/grub/x86_64-efi", stage); err != nil {
				t.Fatalf("extractDir = %v", err)
			}
			got := map[string]string{}
			ents, _ := os.ReadDir(stage)
			for _, e := range ents {
				b, err := os.ReadFile(filepath.Join(stage, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				got[e.Name()] = string(b)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("extracted %v, want %v", got, tt.want)
			}
		})
	}
}

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
