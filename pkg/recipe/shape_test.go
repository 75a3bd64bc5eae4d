package recipe

import (
	"archive/tar"
	"context"
	"debug/elf"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/layer"
)

func addHostFile(t *testing.T, tr *layer.Tree, hostPath, treePath string) {
	t.Helper()
	st, err := os.Stat(hostPath)
	if err != nil {
		t.Skipf("needs %s: %v", hostPath, err)
	}
	if err := tr.Add(&layer.Entry{Path: treePath, Type: tar.TypeReg, Mode: 0o755, Source: hostPath, Size: st.Size()}); err != nil {
		t.Fatal(err)
	}
}

// addEntry adds e to tr or fails the test.
func addEntry(t *testing.T, tr *layer.Tree, e *layer.Entry) {
	t.Helper()
	if err := tr.Add(e); err != nil {
		t.Fatal(err)
	}
}

func TestApplyKeepELFClosure(t *testing.T) {
	// A real dynamically linked program and the libraries it needs, laid
	// out as in Debian bookworm (no merged /usr).
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("needs true")
	}
	f, err := elf.Open(truePath)
	if err != nil {
		t.Skip("true is not ELF")
	}
	libs, _ := f.ImportedLibraries()
	f.Close()
	tr := layer.NewTree()
	addHostFile(t, tr, truePath, "usr/bin/true")
	for _, l := range libs {
		host := filepath.Join("/lib/x86_64-linux-gnu", l)
		real, err := filepath.EvalSymlinks(host)
		if err != nil {
			t.Skipf("needs %s", host)
		}
		addHostFile(t, tr, real, "lib/x86_64-linux-gnu/"+filepath.Base(real))
		if filepath.Base(real) != l {
			addEntry(t, tr, &layer.Entry{Path: "lib/x86_64-linux-gnu/" + l, Type: tar.TypeSymlink, Linkname: filepath.Base(real)})
		}
	}
	ld, err := filepath.EvalSymlinks("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Skip("needs /lib64/ld-linux-x86-64.so.2")
	}
	addHostFile(t, tr, ld, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
	addEntry(t, tr, &layer.Entry{Path: "lib64/ld-linux-x86-64.so.2", Type: tar.TypeSymlink, Linkname: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"})
	// Things keep must drop.
	addEntry(t, tr, &layer.Entry{Path: "usr/bin/other", Type: tar.TypeReg, Mode: 0o755, Data: []byte("x"), Size: 1})
	addEntry(t, tr, &layer.Entry{Path: "usr/share/doc/x/copyright", Type: tar.TypeReg, Data: []byte("c"), Size: 1})
	addEntry(t, tr, &layer.Entry{Path: "etc/ssh/moduli", Type: tar.TypeReg, Data: []byte("m"), Size: 1})
	addEntry(t, tr, &layer.Entry{Path: "etc/ssh/ssh_config.d/x", Type: tar.TypeReg, Data: []byte("m"), Size: 1})
	addEntry(t, tr, &layer.Entry{Path: "etc/motd", Type: tar.TypeReg, Data: []byte("m"), Size: 1})
	// A script whose interpreter is the kept program's sibling.
	addEntry(t, tr, &layer.Entry{Path: "usr/bin/script", Type: tar.TypeReg, Mode: 0o755, Data: []byte("#!/usr/bin/other -x\n"), Size: 20})

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := applyKeep(tr, []string{"/usr/bin/true", "/etc/ssh", "/usr/bin/script"}, map[string]bool{"etc/motd": true}, log); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range tr.Paths() {
		if e, _ := tr.Get(p); e.Type != tar.TypeDir {
			got = append(got, p)
		}
	}
	want := []string{"etc/motd", "etc/ssh/moduli", "etc/ssh/ssh_config.d/x", "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2", "usr/bin/other", "usr/bin/script", "usr/bin/true"}
	for _, l := range libs {
		want = append(want, "lib/x86_64-linux-gnu/"+l)
		if real, _ := filepath.EvalSymlinks(filepath.Join("/lib/x86_64-linux-gnu", l)); filepath.Base(real) != l {
			want = append(want, "lib/x86_64-linux-gnu/"+filepath.Base(real))
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("applyKeep kept\n %v\nwant\n %v", got, want)
	}

	// A kept program whose library is missing is an error.
	tr.Remove("lib/x86_64-linux-gnu/" + libs[0])
	if err := applyKeep(tr, []string{"/usr/bin/true"}, nil, log); err == nil || !strings.Contains(err.Error(), libs[0]) {
		t.Errorf("applyKeep(missing %s) = %v, want an error naming it", libs[0], err)
	}
}

func TestPruneAndEmptyDirs(t *testing.T) {
	tr := layer.NewTree()
	for _, p := range []string{"usr/share/doc/a/copyright", "usr/share/man/man1/x.1.gz", "usr/share/zoneinfo/UTC", "usr/bin/x", "etc/init.d/x"} {
		addEntry(t, tr, &layer.Entry{Path: p, Type: tar.TypeReg, Data: []byte("x"), Size: 1})
	}
	addEntry(t, tr, &layer.Entry{Path: "var/empty", Type: tar.TypeDir, Mode: 0o755})
	addEntry(t, tr, &layer.Entry{Path: "var/keepme", Type: tar.TypeDir, Mode: 0o755})
	protected := map[string]bool{"usr/share/doc/a/keep": true}
	addEntry(t, tr, &layer.Entry{Path: "usr/share/doc/a/keep", Type: tar.TypeReg, Data: []byte("k"), Size: 1})
	applyPrune(tr, append(defaultPrune, "/usr/bin/*"), protected)
	dropEmptyDirs(tr, map[string]bool{"var/keepme": true}, nil)
	got := strings.Join(tr.Paths(), " ")
	want := "usr usr/share usr/share/doc usr/share/doc/a usr/share/doc/a/keep usr/share/zoneinfo usr/share/zoneinfo/UTC var var/keepme"
	if got != want {
		t.Errorf("after prune: %s\nwant %s", got, want)
	}
}

func TestContentTagChanges(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil && testing.Short() {
		t.Skip("needs go")
	}
	mod, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tagtest")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	yml := "go:\n  - {package: ./pkg/recipe/testdata/hello, output: /usr/bin/hello}\nfiles:\n  - {path: /etc/a, source: a.conf}\n"
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := Options{ModuleDir: mod, Epoch: time.Unix(1, 0)}
	tag := func() string {
		t.Helper()
		tg, err := ContentTag(ctx, dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	t1 := tag()
	if len(t1) != 12 || strings.Trim(t1, "0123456789abcdef") != "" {
		t.Fatalf("ContentTag = %q, want 12 hex digits", t1)
	}
	if t2 := tag(); t2 != t1 {
		t.Errorf("ContentTag twice = %s, %s, want equal", t1, t2)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t3 := tag()
	if t3 == t1 {
		t.Errorf("ContentTag after changing an extra file = %s, want a new tag", t3)
	}
	opts.Epoch = time.Unix(2, 0)
	t4 := tag()
	if t4 == t3 {
		t.Errorf("ContentTag with another epoch = %s, want a new tag", t4)
	}
	if testing.Short() {
		return
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		return
	}
	static := strings.Replace(yml, "output: /usr/bin/hello}", "output: /usr/bin/hello, static: true}", 1)
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	t5 := tag()
	if t5 == t4 {
		t.Errorf("ContentTag with static: true = %s, want a new tag", t5)
	}
	if t6 := tag(); t6 != t5 {
		t.Errorf("ContentTag of a static build twice = %s, %s, want equal", t5, t6)
	}
}
