package configapply

import (
	"path/filepath"
	"testing"
)

func TestReplaceBlock(t *testing.T) {
	b := func(lines ...string) string {
		s := beginMark + "\n"
		for _, l := range lines {
			s += l + "\n"
		}
		return s + endMark + "\n"
	}
	tests := []struct {
		name, text string
		lines      []string
		want       string
	}{
		{"empty file", "", []string{"k1"}, b("k1")},
		{"kept lines before", "mine\n", []string{"k1", "k2"}, "mine\n" + b("k1", "k2")},
		{"no final newline", "mine", []string{"k1"}, "mine\n" + b("k1")},
		{"block replaced in place", "a\n" + b("old") + "z\n", []string{"new"}, "a\n" + b("new") + "z\n"},
		{"block removed", "a\n" + b("old") + "z\n", nil, "a\nz\n"},
		{"nothing at all", "", nil, ""},
		{"two blocks become one", b("x") + "m\n" + b("y"), []string{"k"}, b("k") + "m\n"},
	}
	for _, tt := range tests {
		if got := string(replaceBlock([]byte(tt.text), tt.lines)); got != tt.want {
			t.Errorf("%s: replaceBlock(%q, %q) = %q, want %q", tt.name, tt.text, tt.lines, got, tt.want)
		}
	}
}

func TestWriteFileReportsChange(t *testing.T) {
	name := filepath.Join(t.TempDir(), "d", "f")
	steps := []struct {
		data string
		mode uint32
		want bool
	}{
		{"a", 0o644, true},  // created, with its directory
		{"a", 0o644, false}, // same
		{"a", 0o600, true},  // mode only
		{"b", 0o600, true},  // content
		{"b", 0o644 | uint32(keepMode), false},
	}
	for i, s := range steps {
		got, err := writeFile(name, []byte(s.data), fileMode(s.mode))
		if err != nil || got != s.want {
			t.Errorf("step %d: writeFile(%q, %o) = %v, %v, want %v", i, s.data, s.mode, got, err, s.want)
		}
	}
}
