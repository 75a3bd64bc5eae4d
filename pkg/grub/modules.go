package grub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// UEFI boots with the GRUB modules of a newer Debian release than the
// host's. Bookworm's GRUB 2.06 cannot load the Debian kernel under UEFI in
// a 256 MiB machine: its `linux` first tries the kernel's preferred address,
// and when firmware memory sits there, the relocator keeps the 66 MB source
// buffer of that failed try (grub-core/lib/relocator.c returns "couldn't
// find suitable memory target" without freeing it), so the aligned retry
// runs out of memory. GRUB 2.12 boots the kernel through its EFI stub
// instead, and boots there. Bookworm's grub-mkimage and grub-mkrescue build
// images from 2.12's modules unchanged; BIOS keeps the host's i386-pc GRUB.
const (
	EFIModulesSuite   = "trixie"
	EFIModulesPackage = "grub-efi-amd64-bin"
)

// EFIModulesEnv names a directory of x86_64-efi modules to use instead of
// fetching EFIModulesPackage (set it to /usr/lib/grub/x86_64-efi to build
// with the host's GRUB, or to a copy for builds without network).
const EFIModulesEnv = "ROS_GRUB_EFI_MODULES"

// ModuleDirFor returns the directory of format's GRUB modules: the host's
// for i386-pc, EFIModulesSuite's for x86_64-efi (fetched once into
// <cacheDir>/grub-modules/ and reused).
func ModuleDirFor(ctx context.Context, format, cacheDir string) (string, error) {
	if format != "x86_64-efi" {
		return ModuleDir(format), nil
	}
	if d := os.Getenv(EFIModulesEnv); d != "" {
		//nolint:gosec // G703: the person building names their own module directory
		if _, err := os.Stat(filepath.Join(d, "kernel.img")); err != nil {
			return "", fmt.Errorf("%s=%s: not a GRUB x86_64-efi module directory: %w", EFIModulesEnv, d, err)
		}
		return d, nil
	}
	dir := filepath.Join(cacheDir, "grub-modules", EFIModulesSuite, format)
	if _, err := os.Stat(filepath.Join(dir, "kernel.img")); err == nil {
		return dir, nil
	}
	if err := fetchModules(ctx, cacheDir, dir, format); err != nil {
		return "", fmt.Errorf("GRUB %s modules from Debian %s (%s): %w (%s=/usr/lib/grub/%s builds with the host's GRUB instead; under UEFI it then needs more than 256 MiB of RAM)",
			format, EFIModulesSuite, EFIModulesPackage, err, EFIModulesEnv, format)
	}
	return dir, nil
}

// modulesID identifies the modules in dir for cache keys: a hash of the
// core image and the dependency list, which change with every GRUB build.
func modulesID(dir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"kernel.img", "moddep.lst"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("GRUB modules %s: %w", dir, err)
		}
		fmt.Fprintf(h, "%s %d\x00", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
