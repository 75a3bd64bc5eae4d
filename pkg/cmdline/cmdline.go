// Package cmdline parses a Linux kernel command line (/proc/cmdline) the way
// the kernel splits it: parameters separated by spaces, `key=value` or bare
// flags, with double quotes protecting spaces (`key="a b"` or `"key=a b"`).
package cmdline

import "strings"

// Param is one kernel parameter.
type Param struct {
	Key      string
	Value    string
	HasValue bool // false for a bare flag such as `quiet`
}

// Cmdline is a parsed command line. The zero value is an empty command line.
type Cmdline struct {
	params []Param
}

// Parse splits s into parameters. It never fails: an unterminated quote runs
// to the end of the line, as in the kernel. Parameters after a lone `--` are
// kept too (the kernel passes them to init; ros reads them the same way).
func Parse(s string) Cmdline {
	var c Cmdline
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return c
		}
		start := i
		inQuote := false
		for i < len(s) && (inQuote || !isSpace(s[i])) {
			if s[i] == '"' {
				inQuote = !inQuote
			}
			i++
		}
		word := s[start:i]
		if word == "--" {
			continue
		}
		if p := split(word); p.Key != "" || p.HasValue {
			c.params = append(c.params, p)
		}
	}
}

// split turns one word into a Param, dropping the quotes the kernel drops
// (lib/cmdline.c next_arg): a leading quote on the word, a quote right after
// the first '=', and then one trailing quote. Inner quotes are kept.
func split(word string) Param {
	quoted := strings.HasPrefix(word, `"`)
	if quoted {
		word = word[1:]
	}
	key, value, ok := strings.Cut(word, "=")
	if ok && strings.HasPrefix(value, `"`) {
		value = value[1:]
		quoted = true
	}
	if quoted {
		if ok {
			value = strings.TrimSuffix(value, `"`)
		} else {
			key = strings.TrimSuffix(key, `"`)
		}
	}
	return Param{Key: key, Value: value, HasValue: ok}
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// Params returns the parameters in command-line order.
func (c Cmdline) Params() []Param {
	return append([]Param(nil), c.params...)
}

// Get returns the value of the last parameter named key; ok reports whether
// the key is present at all (a bare flag gives "", true).
func (c Cmdline) Get(key string) (value string, ok bool) {
	for i := len(c.params) - 1; i >= 0; i-- {
		if c.params[i].Key == key {
			return c.params[i].Value, true
		}
	}
	return "", false
}

// Has reports whether key appears, as a flag or with a value.
func (c Cmdline) Has(key string) bool {
	_, ok := c.Get(key)
	return ok
}

// String formats the command line so that Parse gives the same parameters
// back, quoting values that hold spaces.
func (c Cmdline) String() string {
	var b strings.Builder
	for i, p := range c.params {
		if i > 0 {
			b.WriteByte(' ')
		}
		word := p.Key
		if p.HasValue {
			word += "=" + p.Value
		}
		if word == "--" || strings.ContainsAny(word, " \t\n\r\v\f") {
			word = `"` + word + `"`
		}
		b.WriteString(word)
	}
	return b.String()
}
