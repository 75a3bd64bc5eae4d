package grubenv

import (
	"fmt"
	"hash/crc32"
	"slices"
)

// Sum returns the CRC-32 (IEEE) of every variable except those named in
// skip, as 8 lowercase hex digits. Variables are taken in name order, each
// as name, NUL, value, NUL (NUL cannot occur in either), so the sum does
// not depend on the block's variable order or padding.
func (e *Env) Sum(skip ...string) string {
	vars := make([]Var, 0, len(e.vars))
	for _, v := range e.vars {
		if !slices.Contains(skip, v.Name) {
			vars = append(vars, v)
		}
	}
	slices.SortFunc(vars, func(a, b Var) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	h := crc32.NewIEEE()
	for _, v := range vars {
		h.Write([]byte(v.Name))
		h.Write([]byte{0})
		h.Write([]byte(v.Value))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// SetFirst sets name to value and moves it to the start of the block.
func (e *Env) SetFirst(name, value string) error {
	if err := e.Set(name, value); err != nil {
		return err
	}
	e.Unset(name)
	e.vars = append([]Var{{Name: name, Value: value}}, e.vars...)
	return nil
}

// SetLast sets name to value and moves it to the end of the block.
func (e *Env) SetLast(name, value string) error {
	if err := e.Set(name, value); err != nil {
		return err
	}
	e.Unset(name)
	e.vars = append(e.vars, Var{Name: name, Value: value})
	return nil
}
