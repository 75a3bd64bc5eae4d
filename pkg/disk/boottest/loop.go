package boottest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// LoopDevice attaches img to a free loop device for the rest of the test
// and returns the device; it skips the test without root or losetup.
func LoopDevice(t testing.TB, img string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (losetup)")
	}
	NeedTools(t, "losetup")
	out, err := exec.Command("losetup", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v %s", dev, err, out)
		}
	})
	return dev
}
