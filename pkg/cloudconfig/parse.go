package cloudconfig

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// FetchFunc fetches the user-data an #include URL names.
type FetchFunc func(ctx context.Context, url string) ([]byte, error)

// Option changes how Parse reads user-data.
type Option func(*parser)

// WithFetch makes Parse fetch #include URLs with fetch (under ctx) and
// read what they return in place, instead of returning them as Includes.
func WithFetch(ctx context.Context, fetch FetchFunc) Option {
	return func(p *parser) { p.ctx, p.fetch = ctx, fetch }
}

// WithMaxDepth bounds the nesting of includes, gzip and multipart parts
// (default DefaultMaxDepth).
func WithMaxDepth(n int) Option { return func(p *parser) { p.maxDepth = n } }

// DefaultMaxDepth is the nesting Parse follows unless told otherwise.
const DefaultMaxDepth = 5

// MaxSize bounds the user-data Parse reads after decompression.
const MaxSize = 16 << 20

// MaxFetches bounds the #include URLs one Parse fetches in all: depth
// alone would let each level list many more URLs.
const MaxFetches = 64

type parser struct {
	ctx      context.Context
	fetch    FetchFunc
	maxDepth int
	warn     Warnings
	included map[string]bool
	fetches  int
}

// Parse reads user-data named source (used in messages: "user-data", a
// URL, a file name). The format is told by the first line: `#cloud-config`
// (YAML), `#!` (a script, returned in Scripts), `#include` and
// `#include-once` (URLs, fetched with WithFetch or returned in Includes), a
// MIME multipart message, or gzip (by its magic bytes). Empty user-data is
// an empty config.
//
// Unknown keys are warnings. Values of the wrong kind, YAML errors and
// configs that fail Validate are errors: each *Error names the source, the
// line and the key, and wraps ErrInvalid. The returned warnings are valid
// even when err is not nil.
func Parse(source string, data []byte, opts ...Option) (*Config, Warnings, error) {
	p := &parser{ctx: context.Background(), maxDepth: DefaultMaxDepth, included: map[string]bool{}}
	for _, o := range opts {
		o(p)
	}
	c, err := p.parse(source, data, 0)
	p.warn = sortWarnings(p.warn)
	if err != nil {
		return nil, p.warn, err
	}
	if err := c.Validate(); err != nil {
		return nil, p.warn, err
	}
	return c, p.warn, nil
}

var gzipMagic = []byte{0x1f, 0x8b}

func (p *parser) parse(source string, data []byte, depth int) (*Config, error) {
	if depth > p.maxDepth {
		return nil, fmt.Errorf("%s: %w: nested more than %d deep (includes, parts, gzip)", source, ErrInvalid, p.maxDepth)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", source, ErrInvalid, MaxSize)
	}
	if bytes.HasPrefix(data, gzipMagic) {
		out, err := gunzip(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		return p.parse(source, out, depth+1)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return &Config{}, nil
	}
	first, _, _ := strings.Cut(string(trimmed), "\n")
	first = strings.TrimSpace(first)
	lower := strings.ToLower(first)
	switch {
	case strings.HasPrefix(first, "#cloud-config-archive"), strings.HasPrefix(first, "#cloud-boothook"),
		strings.HasPrefix(first, "#part-handler"), strings.HasPrefix(first, "## template:"):
		return nil, fmt.Errorf("%s: %w: %q user-data is not supported by ros", source, ErrFormat, first)
	case strings.HasPrefix(first, "#cloud-config"):
		return p.parseYAML(source, data)
	case strings.HasPrefix(first, "#!"):
		return &Config{Scripts: []Script{{Source: source, Content: data}}}, nil
	case strings.HasPrefix(first, "#include"):
		return p.includes(source, trimmed, strings.HasPrefix(first, "#include-once"), depth)
	case strings.HasPrefix(lower, "content-type:"), strings.HasPrefix(lower, "mime-version:"):
		return p.parseMIME(source, data, depth)
	}
	if len(first) > 40 {
		first = first[:40] + "…"
	}
	return nil, fmt.Errorf("%s: %w: first line %q; want #cloud-config, #!, #include or a MIME multipart message", source, ErrFormat, first)
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w: %w", ErrInvalid, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w: %w", ErrInvalid, err)
	}
	if len(out) > MaxSize {
		return nil, fmt.Errorf("gunzip: %w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	return out, nil
}

// includes reads the URL list of an #include document (the first line may
// be the header) and fetches each URL, or returns them as Includes.
func (p *parser) includes(source string, data []byte, once bool, depth int) (*Config, error) {
	c := &Config{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxSize)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#include-once"):
			once = true
			continue
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		if p.fetch == nil {
			c.Includes = append(c.Includes, Include{Source: source, URL: line, Once: once})
			continue
		}
		if once && p.included[line] {
			continue
		}
		p.included[line] = true
		if depth+1 > p.maxDepth {
			return nil, fmt.Errorf("%s: #include %s: %w: nested more than %d deep (includes, parts, gzip)", source, line, ErrInvalid, p.maxDepth)
		}
		if p.fetches++; p.fetches > MaxFetches {
			return nil, fmt.Errorf("%s: #include %s: %w: more than %d URLs to fetch in all", source, line, ErrInvalid, MaxFetches)
		}
		body, err := p.fetch(p.ctx, line)
		if err != nil {
			return nil, fmt.Errorf("%s: #include %s: %w", source, line, err)
		}
		inc, err := p.parse(line, body, depth+1)
		if err != nil {
			return nil, err
		}
		c = Merge(c, inc)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: read #include list: %w", source, err)
	}
	return c, nil
}

// parseYAML reads a cloud-config document, with its rancher: and k3os:
// sections read as aliases of ros:.
func (p *parser) parseYAML(source string, data []byte) (*Config, error) {
	root, err := parseNode(source, data)
	if err != nil || root == nil {
		return &Config{}, err
	}
	return p.decodeDocument(source, root)
}

// decodeDocument decodes a document root, its rancher: and k3os: sections
// translated and merged under the rest.
func (p *parser) decodeDocument(source string, root *yaml.Node) (*Config, error) {
	main := &yaml.Node{Kind: yaml.MappingNode, Line: root.Line}
	var sections []*yaml.Node
	var names []string
	hasROS := false
	rootPairs, err := newDecoder(source).pairs(root, "")
	if err != nil {
		return nil, err
	}
	for _, kv := range rootPairs {
		switch k := kv.k.Value; k {
		case "rancher", "k3os":
			sections = append(sections, kv.v)
			names = append(names, k)
			continue
		case "ros":
			hasROS = true
		}
		if to, ok := topAliases[kv.k.Value]; ok {
			if k, _ := lookup(root, to); k != nil {
				p.warn = append(p.warn, Warning{Source: source, Line: kv.k.Line, Path: kv.k.Value,
					Msg: fmt.Sprintf("ignored: %s is given too (line %d)", to, k.Line)})
				continue
			}
			kv.k = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: to, Line: kv.k.Line, Column: kv.k.Column}
		}
		main.Content = append(main.Content, kv.k, kv.v)
	}
	c := &Config{}
	for i, sec := range sections {
		table := rancherAliases
		if names[i] == "k3os" {
			table = k3osAliases
		}
		d := newDecoder(source)
		if hasROS && source != CmdlineSource { // on the command line, mixing prefixes is normal
			d.warnf(sec, path(names[i]), "both ros: and %s: are given; they are merged and ros: wins", names[i])
		}
		ac, err := p.decodeRoot(d, translate(d, sec, names[i], table))
		if err != nil {
			return nil, err
		}
		c = Merge(c, ac)
	}
	mc, err := p.decodeRoot(newDecoder(source), main)
	if err != nil {
		return nil, err
	}
	return Merge(c, mc), nil
}

func (p *parser) decodeRoot(d *decoder, root *yaml.Node) (*Config, error) {
	c := &Config{}
	err := d.decode(root, reflect.ValueOf(c).Elem(), "")
	p.warn = append(p.warn, d.warn...)
	if err != nil {
		return nil, err
	}
	c.pos = d.pos
	normalize(c)
	// Each document is checked alone, where every key still has its own
	// line; Parse checks the merged result again for what only the whole
	// shows (a user defined in two parts, say).
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
