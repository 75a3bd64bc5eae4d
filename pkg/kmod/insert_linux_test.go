package kmod

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInsertSkipsLiveModule checks that a module the kernel lists as live
// is answered with EEXIST without its file being opened (the paths here do
// not exist), and that any other module is opened.
func TestInsertSkipsLiveModule(t *testing.T) {
	sys := t.TempDir()
	for name, state := range map[string]string{"ext4": "live\n", "ahci": "coming\n"} {
		if err := os.MkdirAll(filepath.Join(sys, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, name, "initstate"), []byte(state), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	missing := t.TempDir()
	for _, tt := range []struct {
		file     string
		wantLive bool
	}{
		{"ext4.ko", true},
		{"usb-storage.ko.xz", false},
		{"ahci.ko", false}, // coming: the kernel waits for it
	} {
		err := insert(sys, filepath.Join(missing, tt.file), "")
		if got := errors.Is(err, unix.EEXIST); got != tt.wantLive {
			t.Errorf("insert(%s) = %v, want EEXIST: %v", tt.file, err, tt.wantLive)
		}
		if !tt.wantLive && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("insert(%s) = %v, want the missing file reported", tt.file, err)
		}
	}
}
