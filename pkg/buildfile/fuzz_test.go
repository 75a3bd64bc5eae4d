package buildfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFiles are the build files the tests read: the repository's yml/, the
// golden renderings in testdata/, the LinuxKit conformance corpus when it is
// present, and a few inputs of the table tests.
func seedFiles(f *testing.F) [][]byte {
	f.Helper()
	root := moduleRoot(f)
	var globs []string
	for _, g := range []string{
		filepath.Join(root, "yml", "*.yml"),
		filepath.Join("testdata", "*.golden"),
		filepath.Join(root, "..", "shared", "conformance", "linuxkit", "*.yml"),
	} {
		m, _ := filepath.Glob(g)
		globs = append(globs, m...)
	}
	var out [][]byte
	for _, file := range globs {
		if data, err := os.ReadFile(file); err == nil {
			out = append(out, data)
		}
	}
	for _, s := range []string{
		"",
		"services:\n  - name: a\n    image: ros/a\n    uid: 0\n",
		"kernel:\n  image: ros/kernel\n  cmdline: console=ttyS0\n  tar: none\ninit:\n  - ros/init\n",
		"services:\n  - &base\n    name: a\n    image: ros/a\n    env: [X=1]\n  - <<: *base\n    name: b\n",
		"init:\n  - \"@pkg:./pkg/init\"\nservices:\n  - name: a\n    image: \"@pkg:../a\"\n",
		"files:\n  - path: etc/x\n    contents: hi\n    mode: \"0600\"\n  - path: etc/dir\n    directory: true\n",
		"volumes:\n  - name: data\n    image: alpine\n    readonly: true\ntrust:\n  org: [linuxkit]\n",
		"onboot:\n  - name: x\n    image: ros/x\n    comand: [a]\n",
		"services:\n  - name: a\n    image: ros/a\n    readonly: yes please\n",
	} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzParse checks that Parse never panics, that its errors are one line,
// and that a file it accepts renders to YAML Parse accepts again.
func FuzzParse(f *testing.F) {
	for _, data := range seedFiles(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		m, err := Merge(c)
		if err != nil {
			return
		}
		out, err := Render(m)
		if err != nil {
			return // e.g. a reference valid alone but not canonicalisable
		}
		if _, err := Parse("rendered.yml", out); err != nil {
			t.Errorf("rendering does not parse: %v\n%s", err, out)
		}
	})
}

// FuzzMerge parses two build files and merges them. Merge must fail exactly
// when a service or volume name is used twice, with a one-line *Error; on
// success the lists are the two files' lists one after the other, a kernel
// field of the second file wins, the inputs are unchanged, and the result
// renders to YAML that parses.
func FuzzMerge(f *testing.F) {
	// Small files only: each new input of two large files takes the fuzzer
	// seconds to minimise, and merging is about the lists, not their size.
	var files [][]byte
	for _, data := range seedFiles(f) {
		if len(data) <= 2048 {
			files = append(files, data)
		}
	}
	for i := range files {
		f.Add(files[i], files[(i+1)%len(files)])
	}
	f.Add([]byte("services:\n  - name: a\n    image: ros/a\n"), []byte("services:\n  - name: a\n    image: ros/b\n"))
	f.Add([]byte("volumes:\n  - name: v\n    image: ros/a\n"), []byte("volumes:\n  - name: v\n"))
	f.Add([]byte("kernel:\n  image: ros/k1\n  cmdline: a\n"), []byte("kernel:\n  cmdline: b\n"))
	f.Fuzz(func(t *testing.T, da, db []byte) {
		a, err := Parse("a.yml", da)
		if err != nil {
			return
		}
		b, err := Parse("b.yml", db)
		if err != nil {
			return
		}
		beforeA, beforeB := snapshot(t, a), snapshot(t, b)
		m, err := Merge(a, b)
		if !bytes.Equal(snapshot(t, a), beforeA) || !bytes.Equal(snapshot(t, b), beforeB) {
			t.Fatalf("Merge modified its inputs")
		}
		dup := duplicateNames(a, b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Merge() = %q, want a one-line *Error", err)
			}
			if !dup {
				t.Fatalf("Merge() = %v, but no service or volume name is used twice", err)
			}
			return
		}
		if dup {
			t.Fatalf("Merge() = nil error, but a service or volume name is used twice")
		}
		for _, l := range []struct {
			name      string
			got, a, b int
		}{
			{"init", len(m.Init), len(a.Init), len(b.Init)},
			{"onboot", len(m.Onboot), len(a.Onboot), len(b.Onboot)},
			{"onshutdown", len(m.Onshutdown), len(a.Onshutdown), len(b.Onshutdown)},
			{"services", len(m.Services), len(a.Services), len(b.Services)},
			{"files", len(m.Files), len(a.Files), len(b.Files)},
			{"volumes", len(m.Volumes), len(a.Volumes), len(b.Volumes)},
		} {
			if l.got != l.a+l.b {
				t.Fatalf("Merge(): %d %s entries, want %d + %d", l.got, l.name, l.a, l.b)
			}
		}
		for i, s := range b.Services {
			if m.Services[len(a.Services)+i] != s {
				t.Fatalf("Merge(): services[%d] is not the second file's services[%d]", len(a.Services)+i, i)
			}
		}
		want := a.Kernel.Image
		if b.Kernel.Image != "" {
			want = b.Kernel.Image
		}
		if m.Kernel.Image != want {
			t.Fatalf("Merge(): kernel image %q, want %q", m.Kernel.Image, want)
		}
		if again, err := Merge(m); err != nil || !bytes.Equal(snapshot(t, again), snapshot(t, m)) {
			t.Fatalf("Merge(Merge(a, b)) = %v, want the same config", err)
		}
		out, err := Render(m)
		if err != nil {
			return
		}
		if _, err := Parse("rendered.yml", out); err != nil {
			t.Fatalf("rendering of the merge does not parse: %v\n%s", err, out)
		}
	})
}

// snapshot is a deep copy of c's exported content, to compare.
func snapshot(t *testing.T, c *Config) []byte {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("json.Marshal(config) = %v", err)
	}
	return b
}

func duplicateNames(cs ...*Config) bool {
	svc, vol := map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		for _, s := range c.Services {
			if svc[s.Name] {
				return true
			}
			svc[s.Name] = true
		}
		for _, v := range c.Volumes {
			if vol[v.Name] {
				return true
			}
			vol[v.Name] = true
		}
	}
	return false
}
