package tasks

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRuntimeBinary(t *testing.T) {
	dir := t.TempDir()
	crun := filepath.Join(dir, "crun")
	if err := os.WriteFile(crun, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"installed", crun, crun},
		{"runc asked for", "", ""},
		{"not installed", filepath.Join(dir, "missing"), ""},
		{"a directory", dir, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuntimeBinary(tt.path); got != tt.want {
				t.Errorf("RuntimeBinary(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
