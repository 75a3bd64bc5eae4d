package datasource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
)

// File reads user-data from a local file.
type File struct {
	Path string
}

func (s *File) Name() string { return "file" }
func (s *File) Kind() Kind   { return Local }

// Fetch reads the file; a missing file is ErrNotFound.
func (s *File) Fetch(ctx context.Context) (*Data, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("file %s: %w", s.Path, err)
	}
	if s.Path == "" {
		return nil, fmt.Errorf("file: no path given: %w", ErrNotFound)
	}
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("file %s: %w", s.Path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", s.Path, err)
	}
	return &Data{Source: "file:" + s.Path, UserData: nilIfEmpty(b), MetaData: map[string]any{}}, nil
}

// URL reads user-data from an HTTP(S) URL. A 404 or a server that cannot be
// reached before the deadline is ErrNotFound.
type URL struct {
	URL  string
	HTTP HTTPOptions // BaseURL is not used
}

func (s *URL) Name() string { return "url" }
func (s *URL) Kind() Kind   { return Network }

func (s *URL) Fetch(ctx context.Context) (*Data, error) {
	b, err := fetchURL(ctx, s.URL, s.HTTP, "url")
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	return &Data{Source: "url:" + s.URL, UserData: nilIfEmpty(b), MetaData: map[string]any{}}, nil
}

// fetchURL GETs an http or https URL with retries.
func fetchURL(ctx context.Context, raw string, o HTTPOptions, source string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: scheme must be http or https", raw)
	}
	f, cancel := newFetcher(ctx, o, source)
	defer cancel()
	return f.get(raw, nil)
}
