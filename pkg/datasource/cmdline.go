package datasource

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/ros-os/ros/pkg/cmdline"
)

// Kernel command-line parameters read by Cmdline.
const (
	ParamConfigURL = "ros.config.url" // user-data fetched over HTTP(S)
	ParamConfigB64 = "ros.config.b64" // user-data, base64 (standard or URL alphabet, padding optional)
)

// DefaultCmdlinePath is where the running kernel's command line is read.
const DefaultCmdlinePath = "/proc/cmdline"

// Cmdline takes user-data from the kernel command line: ros.config.b64=
// (decoded) or ros.config.url= (fetched). When both are present b64 wins, as
// it needs no network.
type Cmdline struct {
	// Line is the command line; when empty it is read from Path.
	Line string
	// Path is read when Line is empty (DefaultCmdlinePath when empty).
	Path string
	// HTTP configures the fetch of ros.config.url (BaseURL is not used).
	HTTP HTTPOptions
}

func (s *Cmdline) Name() string { return "cmdline" }

// Kind is Network when the command line carries only ros.config.url (the
// fetch needs the network), Local otherwise.
func (s *Cmdline) Kind() Kind {
	c, err := s.parse()
	if err != nil {
		return Local
	}
	if c.Has(ParamConfigURL) && !c.Has(ParamConfigB64) {
		return Network
	}
	return Local
}

func (s *Cmdline) parse() (cmdline.Cmdline, error) {
	if s.Line != "" {
		return cmdline.Parse(s.Line), nil
	}
	p := s.Path
	if p == "" {
		p = DefaultCmdlinePath
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return cmdline.Cmdline{}, fmt.Errorf("read %s: %w", p, err)
	}
	return cmdline.Parse(string(b)), nil
}

func (s *Cmdline) Fetch(ctx context.Context) (*Data, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cmdline: %w", err)
	}
	c, err := s.parse()
	if err != nil {
		return nil, fmt.Errorf("cmdline: %w", err)
	}
	if v, ok := c.Get(ParamConfigB64); ok {
		b, err := decodeBase64(v)
		if err != nil {
			return nil, fmt.Errorf("cmdline: %s: %w", ParamConfigB64, err)
		}
		return &Data{Source: "cmdline:" + ParamConfigB64, UserData: nilIfEmpty(b), MetaData: map[string]any{}}, nil
	}
	if v, ok := c.Get(ParamConfigURL); ok {
		if v == "" {
			return nil, fmt.Errorf("cmdline: %s is empty", ParamConfigURL)
		}
		b, err := fetchURL(ctx, v, s.HTTP, "cmdline")
		if err != nil {
			return nil, fmt.Errorf("cmdline: %s: %w", ParamConfigURL, err)
		}
		return &Data{Source: "cmdline:" + v, UserData: nilIfEmpty(b), MetaData: map[string]any{}}, nil
	}
	return nil, fmt.Errorf("cmdline: neither %s nor %s given: %w", ParamConfigB64, ParamConfigURL, ErrNotFound)
}

// decodeBase64 accepts the standard and URL alphabets, padded or not (a
// kernel command line is often typed by hand or built by a URL-safe tool).
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("decode base64: %w", firstErr)
}
