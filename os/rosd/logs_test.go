package rosd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteLogsTail(t *testing.T) {
	tests := []struct {
		name    string
		content string
		lines   int
		want    string
	}{
		{"all", "a\nb\nc\n", 0, "a\nb\nc\n"},
		{"last two", "a\nb\nc\n", 2, "b\nc\n"},
		{"more than there are", "a\nb\n", 10, "a\nb\n"},
		{"no final newline", "a\nb\nc", 1, "c"},
		{"no final newline two", "a\nb\nc", 2, "b\nc"},
		{"empty", "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.log")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := writeLogs(context.Background(), p, tt.lines, false, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("writeLogs(%q, %d) = %q, want %q", tt.content, tt.lines, out.String(), tt.want)
			}
		})
	}
}

func TestWriteLogsLongFile(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 5000; i++ {
		b.WriteString("line of some length to cross the 8 KiB chunks\n")
	}
	b.WriteString("last\n")
	p := filepath.Join(t.TempDir(), "s.log")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeLogs(context.Background(), p, 2, false, &out); err != nil {
		t.Fatal(err)
	}
	if want := "line of some length to cross the 8 KiB chunks\nlast\n"; out.String() != want {
		t.Errorf("writeLogs(long, 2) = %q, want %q", out.String(), want)
	}
}

func TestWriteLogsMissing(t *testing.T) {
	var out bytes.Buffer
	if err := writeLogs(context.Background(), filepath.Join(t.TempDir(), "none.log"), 5, false, &out); err != nil || out.Len() != 0 {
		t.Errorf("writeLogs(missing) = %q, %v, want empty, nil", out.String(), err)
	}
}
