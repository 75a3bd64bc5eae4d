package buildfile

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every *Error, so callers can test for a build file
// that does not check out with errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid build file")

// Error is a problem found in a build file. Its message is one line:
//
//	ros.yml:12: services[1] "getty": unknown key "enviroment"
type Error struct {
	File string // the build file, as named to Parse
	Line int    // 1-based; 0 when unknown
	Path string // where in the document, e.g. `services[1] "getty" binds[0]`
	Msg  string // what is wrong and what was expected
}

func (e *Error) Error() string {
	s := e.File
	if s == "" {
		s = "<input>"
	}
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return oneLine.Replace(s + ": " + e.Msg)
}

// oneLine keeps an error on one line when it quotes input raw (a library
// error naming a reference, say).
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func errAt(p Pos, path, format string, args ...any) *Error {
	return &Error{File: p.File, Line: p.Line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

var lineMsgRE = regexp.MustCompile(`^line \d+: (.*)$`)

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into an *Error.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	if len(msg) > 6 && msg[:6] == "yaml: " {
		msg = msg[6:]
	}
	return &Error{File: file, Msg: "YAML syntax: " + msg}
}

// path is a position inside the document, built while walking it.
type path string

func (p path) key(k string) path {
	switch {
	case p == "":
		return path(k)
	case p[len(p)-1] == '"':
		return p + " " + path(k)
	}
	return p + "." + path(k)
}

func (p path) index(i int) path { return p + path("["+strconv.Itoa(i)+"]") }

func (p path) label(s string) path { return p + path(" "+strconv.Quote(s)) }
