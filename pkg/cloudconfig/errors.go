package cloudconfig

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every *Error: test for a config that does not
// check out with errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid cloud-config")

// ErrFormat is wrapped when user-data is in no format ros reads.
var ErrFormat = errors.New("unrecognized user-data format")

// Error is one problem in a config, on one line:
//
//	user-data:7: ros.network.interfaces.eth0.mtu: expected an integer, got "big"
type Error struct {
	Source string // where the config came from ("user-data", a URL, "cmdline")
	Line   int    // 1-based; 0 when unknown
	Path   string // the key, e.g. ros.network.interfaces.eth0.mtu or write_files[2].path
	Msg    string // what is wrong and what was expected
}

func (e *Error) Error() string { return where(e.Source, e.Line, e.Path) + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// Warning is a problem that does not stop the config from being applied:
// an unknown key, an alias section, a cloud-init key ros ignores.
type Warning struct {
	Source string
	Line   int
	Path   string
	Msg    string
}

func (w Warning) String() string { return where(w.Source, w.Line, w.Path) + w.Msg }

// Warnings are the warnings of one Parse, in document order.
type Warnings []Warning

// String gives one warning per line.
func (ws Warnings) String() string {
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(w.String())
	}
	return b.String()
}

func where(source string, line int, path string) string {
	s := source
	if s == "" {
		s = "<input>"
	}
	if line > 0 {
		s += ":" + strconv.Itoa(line)
	}
	s += ": "
	if path != "" {
		s += path + ": "
	}
	return s
}

// path is a position inside the document: keys joined by dots, sequence
// indexes in brackets (write_files[2].path).
type path string

func (p path) key(k string) path {
	if p == "" {
		return path(k)
	}
	return p + "." + path(k)
}

func (p path) index(i int) path { return p + path("["+strconv.Itoa(i)+"]") }

// keyPos is where a key was written.
type keyPos struct {
	Source string
	Line   int
}

// positions maps a key path to where it was written, so that checks made
// after decoding (Validate) can name the line.
type positions map[string]keyPos

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into an *Error.
func syntaxError(source string, err error) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Source: source, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &Error{Source: source, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}
