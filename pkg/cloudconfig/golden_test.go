package cloudconfig

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// inputs lists the user-data files of testdata (not the golden outputs).
func inputs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	return files
}

// describe renders everything Parse returned, for golden comparison.
func describe(name string, c *Config, w Warnings, err error) []byte {
	var b bytes.Buffer
	for _, x := range w {
		fmt.Fprintf(&b, "warning: %s\n", x)
	}
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.Bytes()
	}
	for _, s := range c.Scripts {
		fmt.Fprintf(&b, "script: %s %q: %q\n", s.Source, s.Name, s.Content)
	}
	for _, i := range c.Includes {
		fmt.Fprintf(&b, "include: %s %s once=%v\n", i.Source, i.URL, i.Once)
	}
	out, xerr := Export(c, true)
	if xerr != nil {
		fmt.Fprintf(&b, "export error: %v\n", xerr)
	}
	b.Write(out)
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, in := range inputs(t) {
		name := filepath.Base(in)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			c, w, err := Parse(name, data)
			got := describe(name, c, w, err)
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Parse(%s) rendered:\n%s\nwant (%s):\n%s", name, got, golden, want)
			}
		})
	}
}

// TestRoundTrip checks that Export renders what Parse reads back to the
// same config: Export(Parse(Export(c))) == Export(c).
func TestRoundTrip(t *testing.T) {
	for _, in := range inputs(t) {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := Parse(in, data)
		if err != nil {
			continue
		}
		out1, err := Export(c, true)
		if err != nil {
			t.Fatalf("Export(%s): %v", in, err)
		}
		c2, w, err := Parse("export", out1)
		if err != nil || len(w) > 0 {
			t.Fatalf("Parse(Export(%s)) = %v, warnings %v; export:\n%s", in, err, w, out1)
		}
		out2, _ := Export(c2, true)
		if !bytes.Equal(out1, out2) {
			t.Errorf("Export(Parse(Export(%s))) =\n%s\nwant\n%s", in, out2, out1)
		}
	}
}
