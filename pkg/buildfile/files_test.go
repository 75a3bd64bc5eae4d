package buildfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContents(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.WriteFile(filepath.Join(dir, "motd.txt"), []byte("from dir"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id.pub"), []byte("ssh-ed25519 AAAA"), 0o644); err != nil {
		t.Fatal(err)
	}
	yml := filepath.Join(dir, "ros.yml")
	c := mustParse(t, yml, `
files:
  - path: etc/motd
    source: motd.txt
  - path: root/.ssh/authorized_keys
    source: ~/.ssh/id.pub
    mode: "0600"
    optional: true
  - path: etc/missing
    source: ~/.ssh/nope
    optional: true
  - path: etc/inline
    contents: inline
  - path: etc/linuxkit-config
    metadata: yaml
  - path: etc/config.json
    metadata: json
  - path: etc/link
    symlink: /proc/mounts
  - path: var/lib/d
    directory: true
`)
	tests := []struct {
		i       int
		want    string
		wantErr error
	}{
		{0, "from dir", nil},
		{1, "ssh-ed25519 AAAA", nil},
		{2, "", ErrSkipped},
		{3, "inline", nil},
	}
	for _, tt := range tests {
		got, err := c.Contents(c.Files[tt.i])
		if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
			t.Errorf("Contents(files[%d]) = %q, %v, want %q, %v", tt.i, got, err, tt.want, tt.wantErr)
		}
	}
	y, err := c.Contents(c.Files[4])
	if err != nil || !strings.Contains(string(y), "path: etc/linuxkit-config") {
		t.Errorf("Contents(metadata yaml) = %q, %v", y, err)
	}
	j, err := c.Contents(c.Files[5])
	if err != nil || !strings.Contains(string(j), `"path": "etc/config.json"`) {
		t.Errorf("Contents(metadata json) = %q, %v", j, err)
	}
	perms := []fs.FileMode{0o600, 0o600, 0o600, 0o600, 0o600, 0o600, 0o600, 0o700}
	for i, want := range perms {
		if got, err := c.Files[i].Perm(); err != nil || got != want {
			t.Errorf("files[%d].Perm() = %o, %v, want %o", i, got, err, want)
		}
	}
	kinds := map[int]FileKind{0: FileRegular, 6: FileSymlink, 7: FileDirectory}
	for i, want := range kinds {
		if got := c.Files[i].Kind(); got != want {
			t.Errorf("files[%d].Kind() = %v, want %v", i, got, want)
		}
	}
	if got, _ := c.Files[0].SourcePath(); got != filepath.Join(dir, "motd.txt") {
		t.Errorf("SourcePath() = %s, want it beside the build file", got)
	}
}

func TestMerge(t *testing.T) {
	a := mustParse(t, "a.yml", `
kernel:
  image: ros/kernel:1
  cmdline: console=tty0
init: [ros/init]
services:
  - name: getty
    image: ros/getty
files:
  - path: etc/a
    contents: a
`)
	b := mustParse(t, "b.yml", `
kernel:
  cmdline: console=ttyS0
  ucode: intel-ucode.cpio
init: [ros/containerd]
onboot:
  - name: sysctl
    image: ros/sysctl
services:
  - name: sshd
    image: ros/sshd
files:
  - path: etc/b
    contents: b
trust:
  image: [x]
`)
	m, err := Merge(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kernel.Image != "ros/kernel:1" || m.Kernel.Cmdline != "console=ttyS0" || m.Kernel.UCode == nil {
		t.Errorf("Merge kernel = %+v, want image from a, cmdline and ucode from b", m.Kernel)
	}
	if strings.Join(m.Init, ",") != "ros/init,ros/containerd" {
		t.Errorf("Merge init = %v", m.Init)
	}
	if m.InitPos(1).String() != "b.yml:5" {
		t.Errorf("Merge InitPos(1) = %s, want b.yml:5", m.InitPos(1))
	}
	if len(m.Services) != 2 || m.Services[1].Pos().String() != "b.yml:10" || len(m.Onboot) != 1 {
		t.Errorf("Merge services = %d, onboot = %d", len(m.Services), len(m.Onboot))
	}
	if len(m.Files) != 2 || m.Files[1].Pos().File != "b.yml" {
		t.Errorf("Merge files = %+v", m.Files)
	}
	if m.Trust == nil || m.Trust.Image[0] != "x" {
		t.Errorf("Merge trust = %+v", m.Trust)
	}
	if a.Kernel.Cmdline != "console=tty0" || len(a.Init) != 1 {
		t.Errorf("Merge modified its input")
	}
}

func TestMergeDuplicateVolume(t *testing.T) {
	a := mustParse(t, "a.yml", "volumes:\n  - name: data\n")
	b := mustParse(t, "b.yml", "volumes:\n  - name: data\n    image: alpine\n")
	_, err := Merge(a, b)
	want := `b.yml:2: volumes[1] "data": duplicate volume name "data", first used at a.yml:2`
	if err == nil || err.Error() != want {
		t.Errorf("Merge() error = %v, want %s", err, want)
	}
}

func TestSchemaUpToDate(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(moduleRoot(t), "yml", "ros.schema.json")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read committed schema: %v (go test -update or go run ./tools/schemagen writes it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("yml/ros.schema.json is stale: run go run ./tools/schemagen (or go test ./pkg/buildfile -update)")
	}
	for _, key := range []string{`"capabilities.add"`, `"binds.add"`, `"bindNS"`, `"createInRoot"`, `"additionalProperties": false`, `"required": [`} {
		if !strings.Contains(string(got), key) {
			t.Errorf("Schema() lacks %s", key)
		}
	}
}
