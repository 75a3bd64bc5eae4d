package assemble

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The image filesystem rules below are LinuxKit's (moby/build/image.go):
// files a container runtime would provide are dropped, /etc/hosts and
// /etc/resolv.conf get fixed contents, and a few mount points always exist.

// excluded entries are dropped from every image.
var excluded = map[string]bool{
	".dockerenv":   true,
	"Dockerfile":   true,
	"dev/console":  true,
	"dev/pts":      true,
	"dev/shm":      true,
	"etc/hostname": true,
}

const hostsContents = `127.0.0.1       localhost
::1     localhost ip6-localhost ip6-loopback
fe00::0 ip6-localnet
ff00::0 ip6-mcastprefix
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
`

const resolvContents = `
# no resolv.conf configured
`

// initResolvConf is where /etc/resolv.conf of the init images points, so a
// DHCP client can write it on a read-only root.
const initResolvConf = "/run/resolvconf/resolv.conf"

// touched entries exist in every image's tree; they are added when no layer
// holds them. Sorted so parents come first.
var touched = []struct {
	name   string
	typ    byte
	mode   int64
	target string
}{
	{"dev", tar.TypeDir, 0o755, ""},
	{"dev/pts", tar.TypeDir, 0o755, ""},
	{"dev/shm", tar.TypeDir, 0o755, ""},
	{"etc", tar.TypeDir, 0o755, ""},
	{"etc/hosts", tar.TypeReg, 0o644, ""},
	{"etc/mtab", tar.TypeSymlink, 0o755, "/proc/mounts"},
	{"etc/resolv.conf", tar.TypeReg, 0o644, ""},
	{"proc", tar.TypeDir, 0o755, ""},
	{"sys", tar.TypeDir, 0o755, ""},
}

var touchedNames = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range touched {
		m[e.name] = true
	}
	return m
}()

// imageFilter returns LinuxKit's entry filter. With resolvLink set,
// /etc/resolv.conf becomes a symlink to it (the init images); otherwise it
// gets placeholder contents (containers).
func imageFilter(mtime time.Time, resolvLink string) entryFilter {
	return func(name string, h *tar.Header) (*tar.Header, []byte, bool) {
		if excluded[name] {
			return nil, nil, false
		}
		switch name {
		case "etc/hosts":
			return replaced(h, mtime), []byte(hostsContents), true
		case "etc/resolv.conf":
			r := replaced(h, mtime)
			if resolvLink != "" {
				r.Typeflag = tar.TypeSymlink
				r.Linkname = resolvLink
				r.Mode = 0o777
				return r, nil, true
			}
			return r, []byte(resolvContents), true
		}
		if touchedNames[name] {
			c := cloneHeader(h)
			c.ModTime = mtime
			return c, nil, true
		}
		return h, nil, true
	}
}

func replaced(h *tar.Header, mtime time.Time) *tar.Header {
	r := cloneHeader(h)
	r.Typeflag = tar.TypeReg
	r.Linkname = ""
	r.ModTime = mtime
	if h.Typeflag != tar.TypeReg && h.Typeflag != typeRegA {
		r.Mode = 0o644
	}
	return r
}

// writeTouched adds the touched entries missing below prefix. skip reports
// paths another part of the build writes later (files entries).
func writeTouched(t *treeWriter, prefix, resolvLink string, skip func(string) bool) error {
	for _, e := range touched {
		name := e.name
		if prefix != "" {
			name = prefix + "/" + name
		}
		if _, ok := t.has(name); ok || (skip != nil && skip(name)) {
			continue
		}
		var err error
		switch {
		case e.typ == tar.TypeDir:
			err = t.dir(name, e.mode, 0, 0)
		case e.typ == tar.TypeSymlink:
			err = t.symlink(name, e.target, e.mode, 0, 0)
		case e.name == "etc/resolv.conf" && resolvLink != "":
			err = t.symlink(name, resolvLink, 0o777, 0, 0)
		case e.name == "etc/resolv.conf":
			err = t.file(name, e.mode, 0, 0, []byte(resolvContents))
		case e.name == "etc/hosts":
			err = t.file(name, e.mode, 0, 0, []byte(hostsContents))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// imageLayers returns openers for an image's layers, lowest first.
func imageLayers(img v1.Image) ([]layerOpener, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	out := make([]layerOpener, len(layers))
	for i, l := range layers {
		out[i] = func() (io.ReadCloser, error) { return l.Uncompressed() }
	}
	return out, nil
}

// writeImages merges extra and the layers of imgs (in order, later on top)
// below prefix, then, if there are images, adds the touched entries.
// override lists paths that a later files entry writes (path -> is a
// directory).
func writeImages(ctx context.Context, t *treeWriter, imgs []v1.Image, extra []layerOpener, prefix, resolvLink string, mtime time.Time, override map[string]bool) error {
	layers := append([]layerOpener(nil), extra...)
	for _, img := range imgs {
		ls, err := imageLayers(img)
		if err != nil {
			return err
		}
		layers = append(layers, ls...)
	}
	o := newOverlay(layers, imageFilter(mtime, resolvLink), prefix)
	if err := o.scan(ctx); err != nil {
		return err
	}
	names := make([]string, 0, len(override))
	for n := range override {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if rel, ok := o.rel(n); ok {
			o.override(rel, override[n])
		}
	}
	if err := o.write(ctx, t); err != nil {
		return err
	}
	if len(imgs) == 0 {
		return nil
	}
	return writeTouched(t, prefix, resolvLink, func(name string) bool {
		_, ok := override[name]
		return ok
	})
}
