package grubenv

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		vars []Var
	}{
		{"empty", nil},
		{"slots", []Var{{"ros_good", "A"}, {"ros_try", "B"}, {"ros_tries", "1"}}},
		{"empty value", []Var{{"ros_try", ""}}},
		{"escapes", []Var{{"v", `a\b` + "\n" + `c\`}, {"w", "x=y # z"}}},
		{"cmdline", []Var{{"ros_cmdline_A", "console=tty0 console=ttyS0,115200n8 panic=5 quiet"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.vars...)
			if err != nil {
				t.Fatalf("New(%v) = %v", tt.vars, err)
			}
			b, err := e.Marshal()
			if err != nil {
				t.Fatalf("Marshal() = %v", err)
			}
			if len(b) != Size {
				t.Fatalf("len(Marshal()) = %d, want %d", len(b), Size)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(Marshal()) = %v", err)
			}
			if !reflect.DeepEqual(got.Vars(), e.Vars()) {
				t.Errorf("Parse(Marshal()) = %q, want %q", got.Vars(), e.Vars())
			}
		})
	}
}

func TestSetKeepsOrderAndUnset(t *testing.T) {
	e, _ := New(Var{"a", "1"}, Var{"b", "2"}, Var{"a", "3"})
	want := []Var{{"a", "3"}, {"b", "2"}}
	if got := e.Vars(); !reflect.DeepEqual(got, want) {
		t.Errorf("Vars() = %v, want %v", got, want)
	}
	e.Unset("a")
	e.Unset("missing")
	if got, want := e.Vars(), []Var{{"b", "2"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Vars() after Unset = %v, want %v", got, want)
	}
	if v, ok := e.Get("b"); !ok || v != "2" {
		t.Errorf("Get(b) = %q, %v, want 2, true", v, ok)
	}
}

func TestBadNamesAndValues(t *testing.T) {
	for _, name := range []string{"", "#x", "a=b", "a\nb", `a\b`, "a\x00"} {
		var e Env
		if err := e.Set(name, "v"); !errors.Is(err, ErrBadName) {
			t.Errorf("Set(%q) = %v, want ErrBadName", name, err)
		}
	}
	var e Env
	if err := e.Set("n", "a\x00b"); !errors.Is(err, ErrBadValue) {
		t.Errorf("Set(n, NUL) = %v, want ErrBadValue", err)
	}
}

func TestFull(t *testing.T) {
	e, _ := New(Var{"big", strings.Repeat("x", Size)})
	if _, err := e.Marshal(); !errors.Is(err, ErrFull) {
		t.Errorf("Marshal() of a 1024-byte value = %v, want ErrFull", err)
	}
	// Exactly full: header + "n=" + value + "\n" == Size.
	e, _ = New(Var{"n", strings.Repeat("x", Size-len(Header)-3)})
	b, err := e.Marshal()
	if err != nil || len(b) != Size || b[Size-1] != '\n' {
		t.Errorf("Marshal() of an exactly full block = len %d, %v; want %d, nil", len(b), err, Size)
	}
}

func pad(s string) []byte {
	b := []byte(s)
	for len(b) < Size {
		b = append(b, '#')
	}
	return b
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name  string
		block []byte
	}{
		{"empty", nil},
		{"short", []byte(Header + "a=b\n")},
		{"long", append(pad(Header), '#')},
		{"no header", pad("# GRUB Environment Blok\na=b\n")},
		{"no equals", pad(Header + "abc\n")},
		{"newline before equals", pad(Header + "ab\nc=d\n")},
		{"unterminated", append([]byte(Header), bytes.Repeat([]byte("a=b"), 400)[:Size-len(Header)]...)},
		{"escape at end", append(pad(Header + "a=")[:Size-1], '\\')},
		{"nul", pad(Header + "a=b\x00\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if e, err := Parse(tt.block); !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%s) = %v, %v; want ErrInvalid", tt.name, e, err)
			}
		})
	}
}

func TestParseComments(t *testing.T) {
	e, err := Parse(pad(Header + "# comment\na=1\n#x=2\nb=\\#\n"))
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if got, want := e.Vars(), []Var{{"a", "1"}, {"b", "#"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Parse() = %v, want %v", got, want)
	}
}

func TestWriteFileInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grubenv")
	if err := os.WriteFile(path, bytes.Repeat([]byte("z"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _ := New(Var{"ros_good", "A"})
	if err := WriteFile(path, e); err != nil {
		t.Fatalf("WriteFile() = %v", err)
	}
	if err := Update(path, func(e *Env) error { return e.Set("ros_try", "B") }); err != nil {
		t.Fatalf("Update() = %v", err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile() = %v", err)
	}
	if want := []Var{{"ros_good", "A"}, {"ros_try", "B"}}; !reflect.DeepEqual(got.Vars(), want) {
		t.Errorf("ReadFile() = %v, want %v", got.Vars(), want)
	}
	fi, _ := os.Stat(path)
	if fi.Size() != Size {
		t.Errorf("size after WriteFile = %d, want %d", fi.Size(), Size)
	}
}

// compatVars avoid '\n' in values: `grub-editenv list` prints values raw.
var compatVars = []Var{
	{"ros_good", "A"},
	{"ros_try", ""},
	{"ros_tries", "1"},
	{"ros_cmdline_A", `console=ttyS0 quote="a b" back\slash #hash x=y`},
}

func editenv(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("grub-editenv", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("grub-editenv %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestCompatWeWriteGrubReads(t *testing.T) {
	if _, err := exec.LookPath("grub-editenv"); err != nil {
		t.Skip("needs grub-editenv (grub-common)")
	}
	path := filepath.Join(t.TempDir(), "grubenv")
	e, _ := New(compatVars...)
	if err := WriteFile(path, e); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, v := range compatVars {
		want.WriteString(v.Name + "=" + v.Value + "\n")
	}
	if got := editenv(t, path, "list"); got != want.String() {
		t.Errorf("grub-editenv list = %q, want %q", got, want.String())
	}
	// GRUB's own writer must be able to edit what we wrote, in place.
	editenv(t, path, "set", "ros_try=B")
	editenv(t, path, "unset", "ros_tries")
	got, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile after grub-editenv set = %v", err)
	}
	if v, _ := got.Get("ros_try"); v != "B" {
		t.Errorf("ros_try after grub-editenv set = %q, want B", v)
	}
	if _, ok := got.Get("ros_tries"); ok {
		t.Errorf("ros_tries still set after grub-editenv unset")
	}
}

func TestCompatGrubWritesWeRead(t *testing.T) {
	if _, err := exec.LookPath("grub-editenv"); err != nil {
		t.Skip("needs grub-editenv (grub-common)")
	}
	path := filepath.Join(t.TempDir(), "grubenv")
	editenv(t, path, "create")
	args := []string{path, "set"}
	for _, v := range compatVars {
		args = append(args, v.Name+"="+v.Value)
	}
	editenv(t, args...)
	editenv(t, path, "set", "nl=a\nb\\c") // escapes written by GRUB
	got, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile(grub-editenv output) = %v", err)
	}
	want := append(append([]Var(nil), compatVars...), Var{"nl", "a\nb\\c"})
	if !reflect.DeepEqual(got.Vars(), want) {
		t.Errorf("ReadFile(grub-editenv output) = %q, want %q", got.Vars(), want)
	}
	// Apart from Debian's warning comment line, our block is byte for byte
	// the one grub-editenv writes.
	raw, _ := os.ReadFile(path)
	if i := bytes.Index(raw, []byte("\n# WARNING")); i >= 0 {
		j := bytes.IndexByte(raw[i+1:], '\n')
		raw = append(append([]byte(nil), raw[:i+1]...), raw[i+1+j+1:]...)
	}
	mine, _ := got.Marshal()
	if !bytes.Equal(raw, mine[:len(raw)]) {
		t.Errorf("Marshal() differs from grub-editenv's block:\n got %q\nwant %q", mine, raw)
	}
}
