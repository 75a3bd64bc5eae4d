package layer

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/usr/share/doc/**", "usr/share/doc/x/copyright", true},
		{"/usr/share/doc/**", "usr/share/doc", true},
		{"/usr/share/doc/**", "usr/share/docs", false},
		{"**/*.pyc", "usr/lib/a/b/c.pyc", true},
		{"**/*.pyc", "c.pyc", true},
		{"/usr/bin/*", "usr/bin/ls", true},
		{"/usr/bin/*", "usr/bin/x/ls", false},
		{"usr/lib/*/libssl.so.*", "usr/lib/x86_64-linux-gnu/libssl.so.3", true},
		{"/etc/ssh", "etc/ssh", true},
		{"/etc/ssh", "etc/ssh/sshd_config", false},
		{"/a/**/z", "a/z", true},
		{"/a/**/z", "a/b/c/z", true},
		{"/a/**/z", "a/b/c/y", false},
	} {
		if got := Match(tc.pattern, tc.path); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
	if ValidPattern("/a/[") {
		t.Errorf("ValidPattern(/a/[) = true, want false")
	}
}

func sampleTree(t *testing.T, order []string) *Tree {
	t.Helper()
	tr := NewTree()
	files := map[string]*Entry{
		"usr/bin/b":      {Type: tar.TypeReg, Mode: 0o755, Data: []byte("bbb"), Size: 3},
		"usr/bin/a":      {Type: tar.TypeReg, Mode: 0o4755, Data: []byte("a"), Size: 1},
		"etc/passwd":     {Type: tar.TypeReg, Mode: 0o644, Data: []byte("root"), Size: 4},
		"usr/bin-x/c":    {Type: tar.TypeReg, Mode: 0o644, UID: 42, GID: 7},
		"sbin/init":      {Type: tar.TypeSymlink, Linkname: "/usr/bin/a"},
		"var/lib/shadow": {Type: tar.TypeDir, Mode: 0o2755, GID: 42},
	}
	for _, p := range order {
		e := *files[p]
		e.Path = p
		if err := tr.Add(&e); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func TestWriteTarReproducible(t *testing.T) {
	order1 := []string{"usr/bin/b", "usr/bin/a", "etc/passwd", "usr/bin-x/c", "sbin/init", "var/lib/shadow"}
	order2 := []string{"var/lib/shadow", "sbin/init", "usr/bin-x/c", "etc/passwd", "usr/bin/a", "usr/bin/b"}
	mtime := time.Unix(1700000000, 0)
	var b1, b2 bytes.Buffer
	if err := sampleTree(t, order1).WriteTar(&b1, mtime); err != nil {
		t.Fatal(err)
	}
	if err := sampleTree(t, order2).WriteTar(&b2, mtime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatalf("WriteTar of one tree built in two orders differs")
	}
	var names []string
	tr := tar.NewReader(&b1)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(mtime) {
			t.Errorf("%s mtime = %v, want %v", h.Name, h.ModTime, mtime)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s has owner names %q/%q, want none", h.Name, h.Uname, h.Gname)
		}
		switch h.Name {
		case "usr/bin/a":
			if h.Mode != 0o4755 {
				t.Errorf("usr/bin/a mode = %o, want 4755", h.Mode)
			}
		case "usr/bin-x/c":
			if h.Uid != 42 || h.Gid != 7 {
				t.Errorf("usr/bin-x/c owner = %d:%d, want 42:7", h.Uid, h.Gid)
			}
		case "var/lib/shadow/":
			if h.Mode != 0o2755 || h.Gid != 42 {
				t.Errorf("var/lib/shadow mode/gid = %o/%d, want 2755/42", h.Mode, h.Gid)
			}
		}
	}
	want := []string{"etc/", "etc/passwd", "sbin/", "sbin/init", "usr/", "usr/bin/", "usr/bin/a", "usr/bin/b", "usr/bin-x/", "usr/bin-x/c", "var/", "var/lib/", "var/lib/shadow/"}
	if len(names) != len(want) {
		t.Fatalf("WriteTar entries = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("WriteTar entries = %v, want %v", names, want)
		}
	}
}

func TestReadTarAndResolve(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, data string) {
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "./lib/x86_64-linux-gnu/libc.so.6", Typeflag: tar.TypeReg, Mode: 0o755}, "libc")
	add(&tar.Header{Name: "./lib64/ld-linux-x86-64.so.2", Typeflag: tar.TypeSymlink, Linkname: "/lib/x86_64-linux-gnu/ld.so"}, "")
	add(&tar.Header{Name: "./lib/x86_64-linux-gnu/ld.so", Typeflag: tar.TypeReg, Mode: 0o755}, "ld")
	add(&tar.Header{Name: "./usr/lib", Typeflag: tar.TypeSymlink, Linkname: "../lib"}, "")
	add(&tar.Header{Name: "./usr/bin/hard", Typeflag: tar.TypeLink, Linkname: "./lib/x86_64-linux-gnu/libc.so.6"}, "")
	add(&tar.Header{Name: "./var/cache/junk", Typeflag: tar.TypeReg, Mode: 0o644}, "junk")
	tw.Close()

	tree := NewTree()
	if err := tree.ReadTar(&buf, t.TempDir(), func(p string) bool { return Match("/var/cache/**", p) }); err != nil {
		t.Fatal(err)
	}
	if _, ok := tree.Get("var/cache/junk"); ok {
		t.Errorf("skipped entry var/cache/junk is in the tree")
	}
	h, ok := tree.Get("usr/bin/hard")
	if !ok || h.Type != tar.TypeReg {
		t.Fatalf("hard link usr/bin/hard = %+v, want a regular file", h)
	}
	if b, _ := h.ReadAll(); string(b) != "libc" {
		t.Errorf("hard link content = %q, want libc", b)
	}
	for in, want := range map[string]string{
		"/lib64/ld-linux-x86-64.so.2":         "lib/x86_64-linux-gnu/ld.so",
		"/usr/lib/x86_64-linux-gnu/libc.so.6": "lib/x86_64-linux-gnu/libc.so.6",
	} {
		if got, err := tree.Resolve(in); err != nil || got != want {
			t.Errorf("Resolve(%s) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := tree.Resolve("/nope"); err == nil {
		t.Errorf("Resolve(/nope) = nil error, want error")
	}
}
