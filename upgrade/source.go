package upgrade

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ros-os/ros/upgrade/bundle"
	"github.com/ros-os/ros/upgrade/channel"
	"github.com/ros-os/ros/upgrade/fetch"
)

// ErrUpToDate says the channel has nothing newer than the running version.
var ErrUpToDate = errors.New("already up to date")

// fetch returns a local path to the bundle req names, downloading it into
// DownloadDir when it is remote. done removes a completed download; an
// interrupted one stays (as .part) so the next attempt resumes it.
func (m *Machine) fetch(ctx context.Context, req Request, progress func(Progress)) (string, func(), error) {
	nothing := func() {}
	src, want, err := m.source(ctx, req)
	if err != nil {
		return "", nothing, err
	}
	if isLocal(src) {
		p := strings.TrimPrefix(src, "file://")
		if _, err := os.Stat(p); err != nil {
			return "", nothing, fmt.Errorf("bundle %s: %w", p, err)
		}
		return p, nothing, nil
	}
	if m.DownloadDir == "" {
		return "", nothing, errors.New("fetch bundle: no download folder")
	}
	if err := os.MkdirAll(m.DownloadDir, 0o700); err != nil {
		return "", nothing, fmt.Errorf("fetch bundle: %w", err)
	}
	dst := filepath.Join(m.DownloadDir, downloadName(src))
	progress(Progress{Phase: "fetch", Total: want.Size, Message: src})
	err = fetch.Fetch(ctx, src, dst, fetch.Options{
		Client: m.Client, Size: want.Size, SHA256: want.SHA256,
		Progress: func(done, total int64) { progress(Progress{Phase: "fetch", Done: done, Total: total}) },
	})
	if err != nil {
		return "", nothing, err
	}
	return dst, func() { os.Remove(dst) }, nil
}

// expect is what the channel promises about a bundle file.
type expect struct {
	Size   int64
	SHA256 string
}

// source picks the bundle location: the request's, or the channel's entry
// for the requested (or newest) version.
func (m *Machine) source(ctx context.Context, req Request) (string, expect, error) {
	switch {
	case req.Bundle != "" && req.Image != "":
		return "", expect{}, errors.New("give --bundle or --image, not both")
	case req.Bundle != "":
		return req.Bundle, expect{}, nil
	case req.Image != "":
		return req.Image, expect{}, nil
	}
	ch := req.Channel
	if ch == "" {
		ch = m.Channel
	}
	if ch == "" {
		if req.Version != "" {
			return "", expect{}, ErrNoChannel
		}
		return "", expect{}, ErrNoSource
	}
	idx, err := channel.Load(ctx, m.Client, ch)
	if err != nil {
		return "", expect{}, err
	}
	var e channel.Entry
	if req.Version != "" {
		e, err = idx.Find(req.Version, m.Arch)
	} else {
		e, err = idx.Latest(m.Arch)
		if err == nil && bundle.CompareVersions(e.Version, m.Version) <= 0 && !req.Force {
			return "", expect{}, fmt.Errorf("%w: channel %s offers %s, running %s", ErrUpToDate, ch, e.Version, m.Version)
		}
	}
	if err != nil {
		return "", expect{}, err
	}
	return e.URL, expect{Size: e.Size, SHA256: e.SHA256}, nil
}

func isLocal(src string) bool {
	if strings.HasPrefix(src, "file://") {
		return true
	}
	if strings.HasPrefix(src, "oci-archive:") || strings.Contains(src, "://") {
		return false
	}
	// A path that exists, or one that looks like a path rather than a
	// registry reference.
	if _, err := os.Stat(src); err == nil {
		return true
	}
	return strings.HasPrefix(src, "/") || strings.HasPrefix(src, ".") || strings.HasSuffix(src, ".bundle")
}

// downloadName is a file name for src in the download folder: stable, so
// a second attempt finds the .part of the first.
func downloadName(src string) string {
	base := src
	if u, err := url.Parse(src); err == nil && u.Path != "" {
		base = path.Base(u.Path)
	}
	base = strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == '@' {
			return '_'
		}
		return r
	}, base)
	if !strings.HasSuffix(base, ".bundle") {
		base += ".bundle"
	}
	return base
}
