package osimage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ros-os/ros/pkg/initramfs"
)

// The payload cache keeps built payloads by the hash of their tree and
// options, so rebuilding an unchanged OS skips mksquashfs (the slow part:
// xz over the whole tree). A cache entry is a folder holding the four files
// of a Payload; it is written under a temporary name and renamed into place.
var cacheFiles = []string{"rootfs.squashfs", "kernel", "initrd", "cmdline"}

// cachedPayload spools tree to tmp while hashing it, returns the cached
// payload of that tree when there is one, and otherwise builds it and
// stores it in cacheDir.
func cachedPayload(ctx context.Context, cacheDir, tmp string, tree io.Reader, po PayloadOptions) (*Payload, error) {
	spool := filepath.Join(tmp, "tree.tar")
	f, err := os.Create(spool)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), tree)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("payload: spool tree: %w", err)
	}
	_, _ = io.WriteString(h, optionsKey(po)) // a hash never fails to write
	entry := filepath.Join(cacheDir, hex.EncodeToString(h.Sum(nil))[:32])
	if p, err := loadCached(entry); err == nil {
		os.Remove(spool)
		return p, nil
	}

	in, err := os.Open(spool)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	p, err := BuildPayload(ctx, in, filepath.Join(tmp, "rootfs.squashfs"), po)
	in.Close()
	os.Remove(spool)
	if err != nil {
		return nil, err
	}
	if err := storeCached(entry, p); err != nil {
		return p, nil // a cache that cannot be written only costs time
	}
	p.Close()
	return loadCached(entry)
}

func loadCached(entry string) (*Payload, error) {
	for _, f := range cacheFiles {
		if _, err := os.Stat(filepath.Join(entry, f)); err != nil {
			return nil, err
		}
	}
	cmdline, err := os.ReadFile(filepath.Join(entry, "cmdline"))
	if err != nil {
		return nil, err
	}
	version, _ := os.ReadFile(filepath.Join(entry, "version")) // older entries have none
	return &Payload{
		Version:  strings.TrimSpace(string(version)),
		Squashfs: filepath.Join(entry, "rootfs.squashfs"),
		Kernel:   filepath.Join(entry, "kernel"),
		Initrd:   filepath.Join(entry, "initrd"),
		Cmdline:  strings.TrimSpace(string(cmdline)),
	}, nil
}

func storeCached(entry string, p *Payload) error {
	tmp := entry + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	srcs := map[string]string{"rootfs.squashfs": p.Squashfs, "kernel": p.Kernel, "initrd": p.Initrd}
	for name, src := range srcs {
		dst := filepath.Join(tmp, name)
		if err := os.Link(src, dst); err != nil {
			if err := copyFile(src, dst); err != nil {
				os.RemoveAll(tmp)
				return err
			}
		}
	}
	for name, v := range map[string]string{"cmdline": p.Cmdline, "version": p.Version} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(v+"\n"), 0o644); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, entry); err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, os.ErrExist) {
			return nil // another build stored the same payload
		}
		return err
	}
	return nil
}

// optionsKey is what decides a payload besides its tree. The stage-1
// module and driver lists are compiled into this program, not read from
// the tree, so they are part of it: a new default must not reuse an
// initramfs built with the old one; nor may a payload in the old layout
// (one squashfs) be taken for one in the new.
func optionsKey(po PayloadOptions) string {
	mods := po.Modules
	if mods == nil {
		mods = initramfs.DefaultModules
	}
	return fmt.Sprintf("\x00layout=boot+root\x00initramfs=zstd-19\x00compression=%s\x00epoch=%d\x00modules=%s\x00drivers=%s",
		compression(po.Compression), po.ModTime.Unix(), strings.Join(mods, ","), strings.Join(initramfs.DefaultDrivers, ","))
}
