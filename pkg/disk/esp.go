package disk

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// MinEFISize is the smallest ESP that holds a valid FAT32 (65525 clusters
// of 512 bytes plus metadata).
const MinEFISize = 34 * MiB

// FATFile is one file to put in a FAT image: a slash-separated path from
// the image's root, and its contents.
type FATFile struct {
	Path string
	Data []byte
}

// makeESP builds the FAT32 ESP image dir/esp.img and returns its path.
func makeESP(ctx context.Context, dir string, size int64, label string, files []FATFile) (string, error) {
	img := filepath.Join(dir, "esp.img")
	if err := MakeFAT(ctx, img, size, 32, label, files); err != nil {
		return "", fmt.Errorf("make ESP: %w", err)
	}
	return img, nil
}

// MakeFAT writes img, a FAT image of size bytes (FAT12, 16 or 32 as fatBits
// says; 0 lets mkfs.fat choose) labelled label and holding files, with
// Debian's mkfs.fat and mtools (go-diskfs v1.9.1 writes a '..' entry
// fsck.fat rejects). It works in img's folder.
func MakeFAT(ctx context.Context, img string, size int64, fatBits int, label string, files []FATFile) error {
	f, err := os.Create(img)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	args := []string{"-n", label, img}
	if fatBits != 0 {
		args = append([]string{"-F", strconv.Itoa(fatBits)}, args...)
	}
	if err := tool(ctx, "mkfs.fat", args...); err != nil {
		return err
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
		if err := mkdir(path.Dir(file.Path)); err != nil {
			return err
		}
		src := fmt.Sprintf("%s.file%d", img, i)
		if err := os.WriteFile(src, file.Data, 0o644); err != nil {
			return err
		}
		err := tool(ctx, "mcopy", "-i", img, "-m", src, "::"+file.Path)
		os.Remove(src)
		if err != nil {
			return err
		}
	}
	return nil
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
