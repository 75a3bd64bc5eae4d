package kmod

import (
	"os"
	"path/filepath"
	"strings"
)

// sysModuleDir is where Linux lists the loaded modules, one directory each.
const sysModuleDir = "/sys/module"

// live reports whether module name (normalized, see Name) is loaded and
// initialized: dir/name/initstate says "live". A module still initializing
// says "coming" and is not live (inserting it again waits for it in the
// kernel); a built-in one has no initstate.
func live(dir, name string) bool {
	data, err := os.ReadFile(filepath.Join(dir, name, "initstate")) //nolint:gosec // G304: sysfs is written by the kernel only
	return err == nil && strings.TrimSpace(string(data)) == "live"
}
