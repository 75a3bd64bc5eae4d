package buildfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// knownBad lists corpus files that are not valid YAML, with the error we
// give. LinuxKit parses with the same YAML library and rejects them too.
var knownBad = map[string]string{
	// A comment at column 0 inside a literal block scalar ends the scalar.
	"static-ip.yml": "static-ip.yml:24: YAML syntax: did not find expected key",
}

func conformanceFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(conformanceDir(t), "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("conformance corpus is empty")
	}
	return files
}

// Every LinuxKit example parses, merges, renders, and reads back the same.
func TestConformance(t *testing.T) {
	for _, file := range conformanceFiles(t) {
		base := filepath.Base(file)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(base, data)
			if want, bad := knownBad[base]; bad {
				if err == nil || err.Error() != want {
					t.Errorf("Parse(%s) error = %v, want %s", base, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%s) = %v", base, err)
			}
			m, err := Merge(c)
			if err != nil {
				t.Fatalf("Merge(%s) = %v", base, err)
			}
			out, err := Render(m)
			if err != nil {
				t.Fatalf("Render(%s) = %v", base, err)
			}
			// the rendering is itself a valid build file with the same content
			again, err := Parse("rendered-"+base, out)
			if err != nil {
				t.Fatalf("Parse(Render(%s)) = %v\n%s", base, err, out)
			}
			out2, err := Render(again)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(out2) {
				t.Errorf("Render(Parse(Render(%s))) differs from Render(%s)", base, base)
			}
			if len(m.Services) != len(c.Services) || len(m.Onboot) != len(c.Onboot) || len(m.Files) != len(c.Files) {
				t.Errorf("Merge(%s) lost entries", base)
			}
		})
	}
}

// A base file and the platform files merge the way `linuxkit build a.yml b.yml` does.
func TestConformanceMergePairs(t *testing.T) {
	dir := conformanceDir(t)
	read := func(name string) *Config {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Skipf("corpus file %s: %v", name, err)
		}
		return mustParse(t, name, string(data))
	}
	base := read("minimal.yml")
	swap := read("swap.yml")
	m, err := Merge(base, swap)
	if err == nil {
		if len(m.Init) != len(base.Init)+len(swap.Init) {
			t.Errorf("Merge: %d init entries, want %d", len(m.Init), len(base.Init)+len(swap.Init))
		}
		if m.Kernel.Cmdline != swap.Kernel.Cmdline {
			t.Errorf("Merge: cmdline %q, want the later file's %q", m.Kernel.Cmdline, swap.Kernel.Cmdline)
		}
	} else if !strings.Contains(err.Error(), "duplicate service name") {
		t.Errorf("Merge(minimal, swap) = %v", err)
	}
}

// Dry-run renderings of a few examples are pinned in testdata/*.golden.
func TestRenderGolden(t *testing.T) {
	dir := conformanceDir(t)
	for _, name := range []string{"sshd.yml", "getty.yml", "wireguard.yml", "docker-for-mac.yml", "volumes.yml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Skipf("corpus file: %v", err)
			}
			c := mustParse(t, name, string(data))
			out, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(name, ".yml")+".golden", out)
		})
	}
}
