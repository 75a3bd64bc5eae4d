package fetch

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Kind is the kind of a fetch source.
type Kind int

// Source kinds.
const (
	KindFile       Kind = iota // a local path or file:// URL
	KindHTTP                   // http:// or https://
	KindOCIArchive             // oci-archive:PATH[:TAG]
	KindRegistry               // REGISTRY/NAME[:TAG|@DIGEST] or docker://…
)

func (k Kind) String() string {
	return [...]string{"file", "http", "oci-archive", "registry"}[k]
}

// Source is a parsed fetch source.
type Source struct {
	Kind Kind
	Path string // KindFile, KindOCIArchive: the local file
	URL  string // KindHTTP
	Ref  string // KindRegistry: the image reference; KindOCIArchive: the tag ("" = the only image)
}

// ParseSource classifies src:
//   - http://…, https://… are downloaded (resumable);
//   - file://PATH, an absolute or ./ ../ path, or any path that exists is a local file;
//   - oci-archive:PATH[:TAG] is an OCI layout tar holding a bundle image;
//   - docker://REF, or REF whose first component is a registry host
//     (has a dot or a port, or is localhost), is pulled from a registry.
//
// Anything else is taken as a local path.
func ParseSource(src string) (Source, error) {
	switch {
	case src == "":
		return Source{}, fmt.Errorf("fetch: empty source")
	case strings.HasPrefix(src, "http://"), strings.HasPrefix(src, "https://"):
		if _, err := url.Parse(src); err != nil {
			return Source{}, fmt.Errorf("fetch: %w", err)
		}
		return Source{Kind: KindHTTP, URL: src}, nil
	case strings.HasPrefix(src, "file://"):
		u, err := url.Parse(src)
		if err != nil {
			return Source{}, fmt.Errorf("fetch: %w", err)
		}
		return Source{Kind: KindFile, Path: u.Path}, nil
	case strings.HasPrefix(src, "oci-archive:"):
		return parseArchive(strings.TrimPrefix(src, "oci-archive:"))
	case strings.HasPrefix(src, "docker://"):
		return parseRef(strings.TrimPrefix(src, "docker://"))
	case strings.HasPrefix(src, "/"), strings.HasPrefix(src, "./"), strings.HasPrefix(src, "../"):
		return Source{Kind: KindFile, Path: src}, nil
	}
	if _, err := os.Stat(src); err == nil {
		return Source{Kind: KindFile, Path: src}, nil
	}
	host, _, ok := strings.Cut(src, "/")
	if ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return parseRef(src)
	}
	return Source{Kind: KindFile, Path: src}, nil
}

func parseArchive(rest string) (Source, error) {
	if rest == "" {
		return Source{}, fmt.Errorf("fetch: oci-archive: no path")
	}
	if _, err := os.Stat(rest); err == nil {
		return Source{Kind: KindOCIArchive, Path: rest}, nil
	}
	if i := strings.LastIndex(rest, ":"); i > 0 && !strings.Contains(rest[i:], "/") {
		return Source{Kind: KindOCIArchive, Path: rest[:i], Ref: rest[i+1:]}, nil
	}
	return Source{Kind: KindOCIArchive, Path: rest}, nil
}

func parseRef(ref string) (Source, error) {
	if _, err := name.ParseReference(ref); err != nil {
		return Source{}, fmt.Errorf("fetch: image reference %q: %w", ref, err)
	}
	return Source{Kind: KindRegistry, Ref: ref}, nil
}
