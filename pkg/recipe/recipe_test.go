package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yml, want string
	}{
		{"unknown top key", "packages: [a]\npackage: [b]\n", `image.yml:2: unknown key "package"`},
		{"unknown nested key", "files:\n  - path: /a\n    contents: x\n    mod: \"0644\"\n", `image.yml:4: unknown key "mod" in files[0]`},
		{"unknown go key", "go:\n  - package: ./x\n    output: /x\n    tag: [a]\n", `image.yml:4: unknown key "tag" in go[0]`},
		{"go static not bool", "go:\n  - package: ./x\n    output: /x\n    static: maybe\n", "image.yml:4:"},
		{"unknown kernel key", "packages: [k]\nkernel:\n  modules: m.txt\n", `image.yml:3: unknown key "modules" in kernel`},
		{"type error", "packages: yes-please\n", "image.yml:1:"},
		{"syntax error", "packages: [a\n", "image.yml:"},
		{"two kinds", "files:\n  - path: /a\n    contents: x\n    directory: true\n", "image.yml:2: files[0] (/a): set exactly one of"},
		{"relative path", "files:\n  - path: a\n    contents: x\n", `image.yml:2: files[0].path: "a" must be an absolute path`},
		{"bad mode", "files:\n  - path: /a\n    contents: x\n    mode: \"rw\"\n", `image.yml:2: files[0].mode: "rw" is not an octal mode`},
		{"go package", "go:\n  - package: github.com/x/y\n    output: /x\n", "image.yml:2: go[0].package"},
		{"label key", "config:\n  capabilites: [all]\n", `image.yml:1: config: unknown key "capabilites"`},
		{"kernel without packages", "kernel:\n  allowlist: m.txt\n", "kernel: needs packages"},
		{"bad glob", "prune: ['/a/[']\n", "bad pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("image.yml", []byte(tc.yml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) = %v, want error containing %q", tc.yml, err, tc.want)
			}
		})
	}
}

func TestParseGood(t *testing.T) {
	r, err := Parse("image.yml", []byte(`
packages: [hello]
keep: [/usr/bin/hello]
files:
  - {path: /etc/x, contents: "x\n", mode: "0600", uid: 1, gid: 2}
  - {path: /d, directory: true}
  - {path: /l, symlink: /etc/x}
  - {path: /c, concat: [/usr/share/*.crt]}
go:
  - {package: ./cmd/x, output: /usr/bin/x, tags: [a, b], cgo: true}
  - {package: ./cmd/y, output: /usr/bin/y, static: true}
entrypoint: [/usr/bin/x]
config:
  binds: [/a:/b]
  runtime: {mkdir: [/x]}
`))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if len(r.Files) != 4 || r.Files[0].mode(0o644) != 0o600 || r.Files[0].UID != 1 || !r.Go[0].CGO || r.Go[0].Tags[1] != "b" || r.Go[0].Static || !r.Go[1].Static {
		t.Errorf("Parse = %+v, fields not decoded", r)
	}
}

func TestLoadMissingSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("files:\n  - {path: /a, source: nope.conf}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "image.yml:2: files[0].source") {
		t.Errorf("Load(missing source) = %v, want file:line error", err)
	}
}

// TestRepoRecipes parses every recipe under images/ (fast; no build).
func TestRepoRecipes(t *testing.T) {
	dirs, _ := filepath.Glob("../../images/*/" + FileName)
	if len(dirs) == 0 {
		t.Skip("no images/ folder")
	}
	for _, p := range dirs {
		if _, err := Load(filepath.Dir(p)); err != nil {
			t.Errorf("Load(%s) = %v", filepath.Dir(p), err)
		}
	}
}

func TestDirFor(t *testing.T) {
	dir, ok := DirFor("../../images", "ros/getty")
	if _, err := os.Stat("../../images/getty/image.yml"); err == nil && (!ok || dir != "../../images/getty") {
		t.Errorf("DirFor(ros/getty) = %q, %v, want ../../images/getty", dir, ok)
	}
	if _, ok := DirFor("../../images", "alpine:3"); ok {
		t.Errorf("DirFor(alpine:3) = true, want false")
	}
	if got := Ref("getty", "0123456789ab"); got != "docker.io/ros/getty:0123456789ab" {
		t.Errorf("Ref = %s", got)
	}
}
