package kmod

import (
	"errors"
	"fmt"
)

// walker visits modules in the order modprobe inserts them: `pre:` soft
// dependencies, hard dependencies, the module, `post:` soft dependencies.
// done remembers each module's outcome so that a module is visited once.
type walker struct {
	ix     *Index
	done   map[string]error
	visit  func(m *Module) error        // insert (Loader) or collect (Resolve)
	softFn func(name string, err error) // told about failed soft dependencies
	skip   func(name string) bool       // aliases never resolve to these (blacklist)
}

func (w *walker) walk(name string) error {
	n := Name(name)
	m, ok := w.ix.modules[n]
	if !ok {
		if w.ix.builtin[n] {
			return nil
		}
		return w.walkAlias(name)
	}
	if err, seen := w.done[n]; seen {
		return err // nil while in progress: breaks soft dependency cycles
	}
	w.done[n] = nil
	err := w.walkModule(m)
	w.done[n] = err
	return err
}

func (w *walker) walkModule(m *Module) error {
	sd := w.ix.softdeps[m.Name]
	for _, pre := range sd.Pre {
		if err := w.walk(pre); err != nil && w.softFn != nil {
			w.softFn(pre, err)
		}
	}
	// modules.dep lists the full closure, most basic last.
	for i := len(m.Deps) - 1; i >= 0; i-- {
		if err := w.walk(m.Deps[i]); err != nil {
			return fmt.Errorf("%s needs %s: %w", m.Name, m.Deps[i], err)
		}
	}
	if err := w.visit(m); err != nil {
		return err
	}
	for _, post := range sd.Post {
		if err := w.walk(post); err != nil && w.softFn != nil {
			w.softFn(post, err)
		}
	}
	return nil
}

// walkAlias loads every module an alias matches and succeeds if one does;
// the other failures are then soft (crc32c_intel on a CPU without SSE4.2
// next to crc32c_generic, both matching crypto-crc32c).
func (w *walker) walkAlias(name string) error {
	var matches []string
	for _, m := range w.ix.Lookup(name) {
		if w.skip == nil || !w.skip(m) {
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	var errs []error
	var failed []string
	for _, m := range matches {
		if err := w.walk(m); err != nil {
			errs = append(errs, err)
			failed = append(failed, m)
		}
	}
	if len(errs) == len(matches) {
		return errors.Join(errs...)
	}
	for i, err := range errs {
		if w.softFn != nil {
			w.softFn(failed[i], err)
		}
	}
	return nil
}

// Resolve returns the modules Load would insert for names, in insertion
// order and each once: hard and soft dependencies included, builtins left
// out. Names may be module names or aliases. A name that matches nothing is
// an error wrapping ErrNotFound; soft dependencies that match nothing are
// skipped.
func (ix *Index) Resolve(names ...string) ([]*Module, error) {
	var out []*Module
	w := &walker{ix: ix, done: map[string]error{}, visit: func(m *Module) error {
		out = append(out, m)
		return nil
	}}
	for _, n := range names {
		if err := w.walk(n); err != nil {
			return nil, fmt.Errorf("resolve module %s: %w", n, err)
		}
	}
	return out, nil
}
