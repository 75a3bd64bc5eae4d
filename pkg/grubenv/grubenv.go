// Package grubenv reads and writes GRUB's environment block (grubenv): a
// file of exactly 1024 bytes that starts with "# GRUB Environment Block\n",
// holds name=value lines and is padded with '#'. GRUB's load_env and
// save_env use it; save_env rewrites the block in place through the file's
// blocklist, so the file must keep its size and its blocks.
//
// Escaping follows GRUB's lib/envblk.c: in a value, '\\' and '\n' are written
// with a backslash before them; a backslash takes the next byte literally.
package grubenv

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Size is the size of an environment block as grub-editenv creates it.
const Size = 1024

// Header is the signature every environment block starts with.
const Header = "# GRUB Environment Block\n"

var (
	// ErrInvalid is returned for a block that is not a well-formed
	// 1024-byte GRUB environment block.
	ErrInvalid = errors.New("invalid grub environment block")
	// ErrFull is returned when the variables do not fit in 1024 bytes.
	ErrFull = errors.New("grub environment block full")
	// ErrBadName is returned for a variable name GRUB could not read back.
	ErrBadName = errors.New("invalid grub environment variable name")
	// ErrBadValue is returned for a value GRUB cannot hold (a NUL byte).
	ErrBadValue = errors.New("invalid grub environment variable value")
)

// Var is one name=value pair.
type Var struct {
	Name  string
	Value string
}

// Env is an ordered set of variables. The zero value is an empty block.
type Env struct {
	vars []Var
}

// New returns an environment holding vars, in order. Later duplicates win.
func New(vars ...Var) (*Env, error) {
	e := &Env{}
	for _, v := range vars {
		if err := e.Set(v.Name, v.Value); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Get returns the value of name and whether it is set.
func (e *Env) Get(name string) (string, bool) {
	for _, v := range e.vars {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// Set sets name to value, keeping the position of an existing variable.
func (e *Env) Set(name, value string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if strings.IndexByte(value, 0) >= 0 {
		return fmt.Errorf("%w: %s holds a NUL byte", ErrBadValue, name)
	}
	for i := range e.vars {
		if e.vars[i].Name == name {
			e.vars[i].Value = value
			return nil
		}
	}
	e.vars = append(e.vars, Var{Name: name, Value: value})
	return nil
}

// Unset removes name; removing a missing variable is not an error.
func (e *Env) Unset(name string) {
	for i := range e.vars {
		if e.vars[i].Name == name {
			e.vars = append(e.vars[:i], e.vars[i+1:]...)
			return
		}
	}
}

// Vars returns a copy of the variables in block order.
func (e *Env) Vars() []Var {
	return append([]Var(nil), e.vars...)
}

// checkName rejects names GRUB would read back differently: empty, starting
// with '#' (a comment line), or holding '=', '\n', '\\' or NUL.
func checkName(name string) error {
	if name == "" || name[0] == '#' || strings.ContainsAny(name, "=\n\\\x00") {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return nil
}

// Marshal returns the block: exactly Size bytes.
func (e *Env) Marshal() ([]byte, error) {
	buf := make([]byte, 0, Size)
	buf = append(buf, Header...)
	for _, v := range e.vars {
		buf = append(buf, v.Name...)
		buf = append(buf, '=')
		for i := 0; i < len(v.Value); i++ {
			c := v.Value[i]
			if c == '\\' || c == '\n' {
				buf = append(buf, '\\')
			}
			buf = append(buf, c)
		}
		buf = append(buf, '\n')
	}
	if len(buf) > Size {
		return nil, fmt.Errorf("%w: variables need %d bytes, block holds %d", ErrFull, len(buf), Size)
	}
	for len(buf) < Size {
		buf = append(buf, '#')
	}
	return buf, nil
}

// Parse reads a block. It must be exactly Size bytes, start with Header, and
// every line that is not a '#' comment must be name=value ending in '\n'
// inside the block (the checks GRUB's iterator makes, as errors instead of a
// silent stop).
func Parse(b []byte) (*Env, error) {
	if len(b) != Size {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalid, len(b), Size)
	}
	if !bytes.HasPrefix(b, []byte(Header)) {
		return nil, fmt.Errorf("%w: missing header %q", ErrInvalid, strings.TrimSpace(Header))
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return nil, fmt.Errorf("%w: NUL byte at offset %d", ErrInvalid, i)
	}
	e := &Env{}
	p := len(Header)
	for p < len(b) {
		if b[p] == '#' {
			p = nextLine(b, p)
			continue
		}
		eq := bytes.IndexByte(b[p:], '=')
		nl := bytes.IndexByte(b[p:], '\n')
		if eq < 0 || (nl >= 0 && nl < eq) {
			return nil, fmt.Errorf("%w: line at offset %d has no '='", ErrInvalid, p)
		}
		name := string(b[p : p+eq])
		val, q := scanValue(b, p+eq+1)
		if q >= len(b) {
			return nil, fmt.Errorf("%w: variable %q at offset %d runs past the end of the block", ErrInvalid, name, p)
		}
		if err := e.Set(name, string(val)); err != nil {
			return nil, fmt.Errorf("%w: offset %d: %w", ErrInvalid, p, err)
		}
		p = q + 1
	}
	return e, nil
}

// nextLine returns the offset after the '\n' ending the line at p, skipping
// escaped bytes as GRUB's find_next_line does.
func nextLine(b []byte, p int) int {
	for p < len(b) {
		switch b[p] {
		case '\\':
			p += 2
		case '\n':
			return p + 1
		default:
			p++
		}
	}
	return len(b)
}

// ParseLoose reads a block as GRUB's load_env does: only the header is
// required; the block may have any size, and reading stops silently at a
// line with no '=' or no end. It is for reading a damaged block the way
// GRUB will boot from it; use Parse to validate. Names GRUB would accept
// but Set refuses (holding a newline, say) are left out.
func ParseLoose(b []byte) (*Env, error) {
	e := &Env{}
	err := iterateLoose(b, func(name, value string) {
		_ = e.Set(name, value) // an error leaves out a name only GRUB can hold
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// iterateLoose calls fn for every variable GRUB 2.06's load_env sets from
// b, in order (lib/envblk.c: grub_envblk_open, grub_envblk_iterate).
func iterateLoose(b []byte, fn func(name, value string)) error {
	// GRUB compares sizeof(signature), which counts the C string's NUL.
	if len(b) <= len(Header) || !bytes.HasPrefix(b, []byte(Header)) {
		return fmt.Errorf("%w: missing header %q", ErrInvalid, strings.TrimSpace(Header))
	}
	p := len(Header)
	for p < len(b) {
		if b[p] != '#' {
			eq := bytes.IndexByte(b[p:], '=')
			if eq < 0 {
				return nil
			}
			name := string(b[p : p+eq])
			val, q := scanValue(b, p+eq+1)
			if q >= len(b) {
				return nil
			}
			fn(name, string(val))
			p = q
		}
		p = nextLine(b, p)
	}
	return nil
}

// scanValue reads the escaped value starting at q, up to the end of its
// line, and returns it unescaped with the index of the newline that ends
// it (len(b) when the block ends first).
func scanValue(b []byte, q int) ([]byte, int) {
	var val []byte
	for ; q < len(b) && b[q] != '\n'; q++ {
		if b[q] == '\\' {
			q++
			if q >= len(b) {
				break
			}
		}
		val = append(val, b[q])
	}
	return val, q
}
