// Package channel reads a channel: a small JSON index of OS versions with
// the URLs, sizes and sha256 of their bundle files.
//
//	{"name": "stable", "versions": [{"version": "v2", "url": "ros-v2.bundle",
//	  "size": 52428800, "sha256": "…", "arch": "amd64", "buildTime": "2025-01-02T03:04:05Z"}]}
//
// Relative URLs are resolved against the index's own URL or path.
package channel

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ros-os/ros/upgrade/bundle"
)

// Sentinel errors.
var (
	// ErrFormat: the index is not valid channel JSON.
	ErrFormat = errors.New("invalid channel index")
	// ErrNotFound: the channel has no (such) version for the arch.
	ErrNotFound = errors.New("version not in channel")
)

const maxIndexSize = 4 << 20

// Index is a parsed channel.
type Index struct {
	Name     string  `json:"name"`
	Versions []Entry `json:"versions"`
	// Source is where the index was loaded from (messages, URL resolution).
	Source string `json:"-"`
}

// Entry is one version of the OS in a channel. URL is absolute after Load
// or Parse. Size and SHA256 describe the bundle file; 0 and "" mean unknown.
type Entry struct {
	Version   string    `json:"version"`
	URL       string    `json:"url"`
	Size      int64     `json:"size,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	Arch      string    `json:"arch"`
	BuildTime time.Time `json:"buildTime,omitzero"`
}

// Load reads the index at src: an http(s) URL (fetched with client, or
// http.DefaultClient when nil), a file:// URL or a local path.
func Load(ctx context.Context, client *http.Client, src string) (*Index, error) {
	var data []byte
	var err error
	switch {
	case strings.HasPrefix(src, "http://"), strings.HasPrefix(src, "https://"):
		data, err = get(ctx, client, src)
	case strings.HasPrefix(src, "file://"):
		var u *url.URL
		if u, err = url.Parse(src); err == nil {
			data, err = readFile(u.Path)
		}
	default:
		data, err = readFile(src)
	}
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", src, err)
	}
	return Parse(data, src)
}

func get(ctx context.Context, client *http.Client, src string) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET: %w", err)
	}
	if len(data) > maxIndexSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, maxIndexSize)
	}
	return data, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIndexSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxIndexSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, maxIndexSize)
	}
	return data, nil
}

// Parse decodes and checks an index; source (a URL or path, may be "") is
// what relative entry URLs are resolved against. Errors name the source
// and the field.
func Parse(data []byte, source string) (*Index, error) {
	var idx Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("channel %s: %w: %w", source, ErrFormat, err)
	}
	idx.Source = source
	seen := map[string]bool{}
	for i := range idx.Versions {
		e := &idx.Versions[i]
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("channel %s: %w: versions[%d].%w", source, ErrFormat, i, err)
		}
		key := e.Version + "/" + e.Arch
		if seen[key] {
			return nil, fmt.Errorf("channel %s: %w: versions[%d]: %s for %s is listed twice", source, ErrFormat, i, e.Version, e.Arch)
		}
		seen[key] = true
		u, err := resolve(source, e.URL)
		if err != nil {
			return nil, fmt.Errorf("channel %s: %w: versions[%d].url: %w", source, ErrFormat, i, err)
		}
		e.URL = u
	}
	return &idx, nil
}

func (e *Entry) check() error {
	switch {
	case e.Version == "" || strings.ContainsFunc(e.Version, isSpaceOrControl):
		return fmt.Errorf("version: %q is not a version", e.Version)
	case e.URL == "" || strings.ContainsFunc(e.URL, isSpaceOrControl):
		return fmt.Errorf("url: %q is not a URL", e.URL)
	case e.Arch == "" || strings.ContainsFunc(e.Arch, isSpaceOrControl):
		return fmt.Errorf("arch: %q is not an architecture", e.Arch)
	case e.Size < 0:
		return fmt.Errorf("size: %d is negative", e.Size)
	case e.SHA256 != "" && !isSHA256(e.SHA256):
		return fmt.Errorf("sha256: %q is not 64 lowercase hex digits", e.SHA256)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

func isSHA256(s string) bool {
	_, err := hex.DecodeString(s)
	return len(s) == 64 && err == nil && strings.ToLower(s) == s
}

// resolve makes ref absolute against base. A ref with a scheme
// (https:, file:, oci-archive:, docker:, …) or an absolute path is kept.
func resolve(base, ref string) (string, error) {
	if strings.HasPrefix(ref, "/") {
		if strings.HasPrefix(base, "http://") || strings.HasPrefix(base, "https://") {
			return resolveURL(base, ref)
		}
		return ref, nil
	}
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" {
		return ref, nil
	}
	switch {
	case base == "":
		return ref, nil
	case strings.Contains(base, "://"):
		return resolveURL(base, ref)
	}
	return filepath.Join(filepath.Dir(base), filepath.FromSlash(ref)), nil
}

func resolveURL(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("index URL %q: %w", base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%q: %w", ref, err)
	}
	return b.ResolveReference(r).String(), nil
}

// List returns the entries for arch ("" for all), newest first.
func (idx *Index) List(arch string) []Entry {
	var out []Entry
	for _, e := range idx.Versions {
		if arch == "" || e.Arch == arch {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		return bundle.CompareBuilds(b.Version, b.BuildTime, a.Version, a.BuildTime)
	})
	return out
}

// Latest returns the newest version for arch (bundle.CompareBuilds order).
func (idx *Index) Latest(arch string) (Entry, error) {
	list := idx.List(arch)
	if len(list) == 0 {
		return Entry{}, fmt.Errorf("channel %s: %w: no version for %s (has %s)", idx.Source, ErrNotFound, arch, idx.describe(""))
	}
	return list[0], nil
}

// Find returns the entry for version and arch.
func (idx *Index) Find(version, arch string) (Entry, error) {
	for _, e := range idx.Versions {
		if e.Version == version && e.Arch == arch {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("channel %s: %w: no %s for %s (has %s)", idx.Source, ErrNotFound, version, arch, idx.describe(arch))
}

// describe lists the channel's versions for messages.
func (idx *Index) describe(arch string) string {
	list := idx.List(arch)
	if len(list) == 0 {
		return "nothing"
	}
	var s []string
	for _, e := range list {
		s = append(s, e.Version+"/"+e.Arch)
	}
	return strings.Join(s, ", ")
}
