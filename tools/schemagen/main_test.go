package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestRun(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(&stdout, "-"); err != nil {
		t.Fatalf("run(-) = %v", err)
	}
	var s map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("run(-) wrote invalid JSON: %v", err)
	}
	if s["additionalProperties"] != false {
		t.Errorf("schema additionalProperties = %v, want false", s["additionalProperties"])
	}
	out := filepath.Join(t.TempDir(), "s.json")
	if err := run(&stdout, out); err != nil {
		t.Fatalf("run(%s) = %v", out, err)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(b, stdout.Bytes()) {
		t.Errorf("run(%s) wrote %d bytes, %v; want the same as standard output", out, len(b), err)
	}
}
