package disk

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// MinEFISize is the smallest ESP that holds a valid FAT32 (65525 clusters
// of 512 bytes plus metadata).
const MinEFISize = 34 * MiB

// espFile is one file to put on the ESP.
type espFile struct {
	path string
	data []byte
}

// makeESP builds the FAT32 ESP image with Debian's mkfs.fat and mtools
// (go-diskfs v1.9.1 writes a '..' entry fsck.fat rejects) and returns its
// path.
func makeESP(ctx context.Context, dir string, size int64, label string, files []espFile) (string, error) {
	img := filepath.Join(dir, "esp.img")
	f, err := os.Create(img)
	if err != nil {
		return "", fmt.Errorf("make ESP: %w", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("make ESP: %w", err)
	}
	if err := tool(ctx, "mkfs.fat", "-F", "32", "-n", label, img); err != nil {
		return "", fmt.Errorf("make ESP: %w", err)
	}
	made := map[string]bool{"/": true}
	var mkdir func(string) error
	mkdir = func(d string) error {
		if made[d] {
			return nil
		}
		if err := mkdir(path.Dir(d)); err != nil {
			return err
		}
		made[d] = true
		return tool(ctx, "mmd", "-i", img, "::"+d)
	}
	for i, file := range files {
		if err := mkdir(path.Dir(file.path)); err != nil {
			return "", fmt.Errorf("make ESP: %w", err)
		}
		src := filepath.Join(dir, fmt.Sprintf("file%d", i))
		if err := os.WriteFile(src, file.data, 0o644); err != nil {
			return "", fmt.Errorf("make ESP: %w", err)
		}
		if err := tool(ctx, "mcopy", "-i", img, "-m", src, "::"+file.path); err != nil {
			return "", fmt.Errorf("make ESP: %w", err)
		}
	}
	return img, nil
}

// tool runs a host tool, returning its output in the error.
func tool(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
