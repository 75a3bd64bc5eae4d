package cloudconfig

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// encodings maps each write_files encoding cloud-init accepts to whether
// the content is base64 and whether it is gzip.
var encodings = map[string][2]bool{
	"": {false, false}, "text": {false, false},
	"b64": {true, false}, "base64": {true, false},
	"gz": {false, true}, "gzip": {false, true},
	"gz+b64": {true, true}, "gz+base64": {true, true},
	"gzip+b64": {true, true}, "gzip+base64": {true, true},
}

// Decode returns the bytes to write: Content undone of its Encoding.
func (f WriteFile) Decode() ([]byte, error) {
	enc, ok := encodings[strings.ToLower(f.Encoding)]
	if !ok {
		return nil, fmt.Errorf("%w: unknown encoding %q", ErrInvalid, f.Encoding)
	}
	data := []byte(f.Content)
	if enc[0] {
		clean := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, f.Content)
		d, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return nil, fmt.Errorf("decode base64 content: %w", err)
		}
		data = d
	}
	if enc[1] {
		if !bytes.HasPrefix(data, gzipMagic) {
			return nil, fmt.Errorf("%w: encoding %q but the content is not gzip", ErrInvalid, f.Encoding)
		}
		d, err := gunzip(data)
		if err != nil {
			return nil, fmt.Errorf("decode gzip content: %w", err)
		}
		data = d
	}
	return data, nil
}

// DefaultFileMode is the mode of a written file that gives no permissions.
const DefaultFileMode fs.FileMode = 0o644

// Mode returns the file mode Permissions give (DefaultFileMode if none).
func (f WriteFile) Mode() (fs.FileMode, error) {
	if f.Permissions == "" {
		return DefaultFileMode, nil
	}
	return parseMode(string(f.Permissions))
}

func parseMode(s string) (fs.FileMode, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	m, err := strconv.ParseUint(t, 8, 32)
	if err != nil || m > 0o7777 || t == "" {
		return 0, fmt.Errorf("%w: permissions %q: expected an octal mode from 0 to 07777, such as \"0644\"", ErrInvalid, s)
	}
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode, nil
}
