package qemutest

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestWriteInitrd checks the archive with GNU cpio as an independent reader.
func TestWriteInitrd(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("needs cpio")
	}
	var buf bytes.Buffer
	files := append(InitrdFiles(),
		File{Name: "init", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
		File{Name: "modules/a/b.ko", Mode: 0o644, Data: []byte("12345")})
	if err := WriteInitrd(&buf, files); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d not 4-aligned", buf.Len())
	}
	cmd := exec.Command("cpio", "-t", "-v", "--quiet")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v: %s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"crw-------", "5,   1", " dev/console",
		"-rwxr-xr-x", " init",
		"drwxr-xr-x", " modules/a\n",
		"-rw-r--r--", "5 ", " modules/a/b.ko",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("cpio -t -v lacks %q:\n%s", want, text)
		}
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 8 { // dev dev/console init modules modules/a modules/a/b.ko proc sys
		t.Errorf("cpio lists %d entries, want 8:\n%s", len(lines), text)
	}
}
