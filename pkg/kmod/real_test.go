package kmod

import (
	"testing"

	"github.com/ros-os/ros/pkg/testkernel"
)

// TestRealDebianTree checks the parser against Debian's real modules tree when
// a test kernel has been unpacked (testkernel.Get fetches one: the QEMU tests call it).
func TestRealDebianTree(t *testing.T) {
	k, ok := testkernel.Find()
	if !ok {
		t.Skip("no unpacked Debian kernel in " + testkernel.CacheDir() + " (the QEMU tests fetch it)")
	}
	ix, err := Open(k.ModulesDir)
	if err != nil {
		t.Fatalf("Open(%s) = %v", k.ModulesDir, err)
	}
	if n := len(ix.Modules()); n < 3000 {
		t.Errorf("Open(%s): %d modules, want thousands", k.ModulesDir, n)
	}
	mods, err := ix.Resolve("virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "sr_mod", "ahci", "nvme",
		"usb-storage", "uas", "xhci_pci", "ehci_pci", "squashfs", "overlay", "isofs", "loop", "ext4",
		"vfat", "nls_cp437", "nls_iso8859_1", "crc32c_generic")
	if err != nil {
		t.Fatalf("Resolve(root modules) = %v", err)
	}
	pos := map[string]int{}
	for i, m := range mods {
		pos[m.Name] = i
	}
	for _, before := range [][2]string{{"crc32c_generic", "ext4"}, {"crc32c_generic", "jbd2"}, {"jbd2", "ext4"}, {"virtio", "virtio_blk"}, {"scsi_mod", "sd_mod"}, {"usbcore", "usb_storage"}} {
		a, okA := pos[before[0]]
		b, okB := pos[before[1]]
		if !okA || !okB || a > b {
			t.Errorf("Resolve: %s at %d (%v), %s at %d (%v), want the first before the second", before[0], a, okA, before[1], b, okB)
		}
	}
	if got := ix.Lookup("fs-ext4"); len(got) != 1 || got[0] != "ext4" {
		t.Errorf("Lookup(fs-ext4) = %v, want [ext4]", got)
	}
	t.Logf("%s: %d modules; the root set resolves to %d modules", k.Version, len(ix.Modules()), len(mods))
}
