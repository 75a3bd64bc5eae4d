package configapply

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func gzipT(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteFiles(t *testing.T) {
	gz := gzipT(t, "zipped\n")
	tests := []struct {
		name      string
		entry     string // one write_files entry, YAML flow
		existing  string // file content before; "" = none
		path      string
		want      string
		wantMode  os.FileMode
		wantOwner *[2]int
	}{
		{name: "text", entry: `{path: /etc/motd, content: "hello\n"}`, path: "/etc/motd", want: "hello\n", wantMode: 0o644},
		{name: "b64", entry: `{path: /a/b/c.bin, encoding: b64, content: ` + base64.StdEncoding.EncodeToString([]byte("raw")) + `}`,
			path: "/a/b/c.bin", want: "raw", wantMode: 0o644},
		{name: "gz+b64", entry: `{path: /z, encoding: gz+b64, content: ` + base64.StdEncoding.EncodeToString(gz) + `}`,
			path: "/z", want: "zipped\n", wantMode: 0o644},
		{name: "permissions", entry: `{path: /usr/local/bin/x, content: "#!/bin/sh\n", permissions: 0755}`,
			path: "/usr/local/bin/x", want: "#!/bin/sh\n", wantMode: 0o755},
		{name: "setuid", entry: `{path: /x, content: x, permissions: "4750"}`, path: "/x", want: "x", wantMode: 0o750 | os.ModeSetuid},
		{name: "replace keeps nothing", entry: `{path: /etc/x, content: new}`, existing: "old old old", path: "/etc/x", want: "new", wantMode: 0o644},
		{name: "append", entry: `{path: /etc/x, content: "two\n", append: true}`, existing: "one\n", path: "/etc/x", want: "one\ntwo\n", wantMode: 0o644},
		{name: "append is not repeated", entry: `{path: /etc/x, content: "two\n", append: true}`, existing: "one\ntwo\nthree\n",
			path: "/etc/x", want: "one\ntwo\nthree\n", wantMode: 0o644},
		{name: "append creates", entry: `{path: /etc/x, content: "two\n", append: true, permissions: "0600"}`, path: "/etc/x", want: "two\n", wantMode: 0o600},
		{name: "owner by name", entry: `{path: /home/ros/f, content: x, owner: "ros:docker"}`, path: "/home/ros/f", want: "x",
			wantMode: 0o644, wantOwner: &[2]int{1000, 999}},
		{name: "owner user alone", entry: `{path: /f, content: x, owner: ros}`, path: "/f", want: "x", wantMode: 0o644, wantOwner: &[2]int{1000, 1000}},
		{name: "owner numbers", entry: `{path: /f, content: x, owner: "1234:5"}`, path: "/f", want: "x", wantMode: 0o644, wantOwner: &[2]int{1234, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sys := newFake(t)
			if tt.existing != "" {
				writeT(t, f.root, tt.path, tt.existing)
			}
			c := parse(t, "write_files: ["+tt.entry+"]")
			for range 2 { // at each boot
				noErrors(t, Apply(context.Background(), sys, nil, c, Boot))
			}
			if got := readT(t, f.root, tt.path); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.path, got, tt.want)
			}
			if m := modeT(t, f.root, tt.path); m != tt.wantMode {
				t.Errorf("%s mode = %v, want %v", tt.path, m, tt.wantMode)
			}
			owner, chowned := f.chowns[tt.path]
			switch {
			case tt.wantOwner == nil && chowned:
				t.Errorf("%s chowned to %v without an owner", tt.path, owner)
			case tt.wantOwner != nil && owner != *tt.wantOwner:
				t.Errorf("%s owner = %v, want %v", tt.path, owner, *tt.wantOwner)
			}
		})
	}
}

func TestWriteFilesDeferAndErrors(t *testing.T) {
	f, sys := newFake(t)
	c := parse(t, `users: [{name: app}]
write_files:
  - {path: /etc/early, content: a, owner: app}
  - {path: /srv/app/conf, content: b, owner: "app:app", defer: true}
  - {path: /etc/after, content: c}`)
	r := Apply(context.Background(), sys, nil, c, Boot)
	if len(r.Errors) != 1 || !hasError(r, "write_files[0]", `owner: no user "app"`) {
		t.Errorf("Errors = %v, want write_files[0] (its owner is made later) only", r.Errors)
	}
	if existsT(f.root, "/etc/early") {
		t.Errorf("/etc/early written despite its unknown owner")
	}
	if got := readT(t, f.root, "/srv/app/conf"); got != "b" || f.chowns["/srv/app/conf"] != [2]int{1001, 1001} {
		t.Errorf("deferred file = %q owned by %v, want b owned by the new user 1001", got, f.chowns["/srv/app/conf"])
	}
	if got := readT(t, f.root, "/etc/after"); got != "c" {
		t.Errorf("/etc/after = %q: an error stopped the next entry", got)
	}
	if !cmp.Equal(r.Applied, []string{"users"}) {
		t.Errorf("Applied = %q, want [users] (write_files failed)", r.Applied)
	}
}

func TestWriteFilesInPlace(t *testing.T) {
	// A file bound into a container keeps its inode: it must be rewritten,
	// not replaced.
	f, sys := newFake(t)
	writeT(t, f.root, "/etc/bound", "old")
	before, _ := os.Stat(f.root + "/etc/bound")
	noErrors(t, Apply(context.Background(), sys, nil, parse(t, "write_files: [{path: /etc/bound, content: new}]"), Boot))
	after, _ := os.Stat(f.root + "/etc/bound")
	if !os.SameFile(before, after) {
		t.Errorf("/etc/bound was replaced by a new file")
	}
}
