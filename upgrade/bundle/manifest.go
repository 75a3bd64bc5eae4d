package bundle

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// FormatVersion is the bundle format this package writes and reads.
const FormatVersion = 1

// Limits on manifest values. Version and cmdline end up in grubenv, whose
// whole block is 1024 bytes, so they are kept short and single-line.
const (
	maxVersionLen = 64
	maxCmdlineLen = 512
	maxFieldLen   = 128
)

// Manifest describes a bundle's payload. It is stored as manifest.json, the
// first entry of the bundle, and is what the signature covers.
type Manifest struct {
	Format     int         `json:"format"`
	Version    string      `json:"version"`
	Arch       string      `json:"arch"`
	Compatible string      `json:"compatible"`
	MinVersion string      `json:"minVersion,omitempty"` // oldest version it upgrades from
	BuildTime  time.Time   `json:"buildTime"`
	Cmdline    string      `json:"cmdline"` // the payload's kernel command line (goes into grubenv)
	Payload    PayloadInfo `json:"payload"`
}

// PayloadInfo is the size and sha256 (lowercase hex) of payload.squashfs.
type PayloadInfo struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// DefaultCompatible is the compatible string of an arch when none is set.
func DefaultCompatible(arch string) string { return "ros-" + arch }

// ParseManifest decodes and validates manifest JSON. Unknown fields are
// ignored (the format number governs compatibility); errors wrap ErrFormat.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: manifest.json: %w", ErrFormat, err)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// Marshal encodes the manifest as indented JSON (the bytes that get signed).
func (m Manifest) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(data, '\n'), nil
}

// Validate checks every field; errors wrap ErrFormat and name the field.
func (m Manifest) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: manifest.json: %s: %s", ErrFormat, field, fmt.Sprintf(format, args...))
	}
	if m.Format != FormatVersion {
		return bad("format", "%d is not supported (want %d)", m.Format, FormatVersion)
	}
	if err := checkVersion(m.Version, true); err != nil {
		return bad("version", "%v", err)
	}
	if m.Arch == "" || !isArch(m.Arch) {
		return bad("arch", "%q is not an architecture name", m.Arch)
	}
	if err := checkText(m.Compatible, maxFieldLen, true); err != nil {
		return bad("compatible", "%v", err)
	}
	if err := checkVersion(m.MinVersion, false); err != nil {
		return bad("minVersion", "%v", err)
	}
	if err := checkText(m.Cmdline, maxCmdlineLen, false); err != nil {
		return bad("cmdline", "%v", err)
	}
	if m.Payload.Size <= 0 {
		return bad("payload.size", "%d is not a positive size", m.Payload.Size)
	}
	if !isSHA256(m.Payload.SHA256) {
		return bad("payload.sha256", "%q is not 64 lowercase hex digits", m.Payload.SHA256)
	}
	return nil
}

// checkText accepts printable single-line text up to max bytes.
func checkText(s string, max int, required bool) error {
	switch {
	case s == "" && required:
		return fmt.Errorf("empty")
	case len(s) > max:
		return fmt.Errorf("%d bytes long, limit %d", len(s), max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return fmt.Errorf("%q holds a control or invalid character", s)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%q has leading or trailing space", s)
	}
	return nil
}

// checkVersion accepts version strings made of letters, digits and ._+~-
// (v2, v1.2.3-rc.1, 2024.05.01).
func checkVersion(s string, required bool) error {
	switch {
	case s == "" && required:
		return fmt.Errorf("empty")
	case len(s) > maxVersionLen:
		return fmt.Errorf("%d bytes long, limit %d", len(s), maxVersionLen)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+~-", r)) {
			return fmt.Errorf("%q: only letters, digits and ._+~- are allowed", s)
		}
	}
	return nil
}

func isArch(s string) bool {
	if len(s) > 16 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func isSHA256(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
