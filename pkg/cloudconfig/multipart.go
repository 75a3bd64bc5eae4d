package cloudconfig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
)

// parseMIME reads a MIME message, multipart or not, as cloud-init writes
// them (write-mime-multipart): each part by its content type.
func (p *parser) parseMIME(source string, data []byte, depth int) (*Config, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: MIME message: %w", source, ErrFormat, err)
	}
	body, err := readBody(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return p.parsePart(source, msg.Header.Get("Content-Type"), "", body, depth)
}

func (p *parser) parsePart(source, contentType, filename string, body []byte, depth int) (*Config, error) {
	if depth > p.maxDepth {
		return nil, fmt.Errorf("%s: %w: nested more than %d deep (includes, parts, gzip)", source, ErrInvalid, p.maxDepth)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil && contentType != "" {
		return nil, fmt.Errorf("%s: %w: content type %q: %w", source, ErrFormat, contentType, err)
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return p.parseParts(source, params["boundary"], body, depth)
	case mt == "text/cloud-config":
		return p.parseYAML(source, body)
	case mt == "text/x-shellscript":
		return &Config{Scripts: []Script{{Source: source, Name: filename, Content: body}}}, nil
	case mt == "text/x-include-url", mt == "text/x-include-once-url":
		return p.includes(source, body, mt == "text/x-include-once-url", depth)
	case mt == "application/gzip", mt == "application/x-gzip":
		out, err := gunzip(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		return p.parse(source, out, depth+1)
	case mt == "", mt == "text/plain", mt == "text/x-not-multipart", mt == "application/octet-stream":
		return p.parse(source, body, depth+1)
	}
	p.warn = append(p.warn, Warning{Source: source, Msg: fmt.Sprintf("part of type %q is not supported by ros, ignored", mt)})
	return &Config{}, nil
}

func (p *parser) parseParts(source, boundary string, body []byte, depth int) (*Config, error) {
	if boundary == "" {
		return nil, fmt.Errorf("%s: %w: multipart message without a boundary", source, ErrFormat)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	c := &Config{}
	for i := 1; ; i++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w: multipart: %w", source, ErrFormat, err)
		}
		name := fmt.Sprintf("%s part %d", source, i)
		if fn := part.FileName(); fn != "" {
			name += fmt.Sprintf(" (%s)", fn)
		}
		data, err := readBody(part, part.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		pc, err := p.parsePart(name, part.Header.Get("Content-Type"), part.FileName(), data, depth+1)
		if err != nil {
			return nil, err
		}
		c = Merge(c, pc)
	}
}

// readBody reads a MIME body, undoing a base64 transfer encoding
// (mime/multipart already undoes quoted-printable).
func readBody(r io.Reader, encoding string) ([]byte, error) {
	if strings.EqualFold(strings.TrimSpace(encoding), "base64") {
		r = base64.NewDecoder(base64.StdEncoding, r) // skips line breaks
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read MIME body: %w: %w", ErrInvalid, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("read MIME body: %w: larger than %d bytes", ErrInvalid, MaxSize)
	}
	return data, nil
}
