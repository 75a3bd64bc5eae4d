// Package kmod loads Linux kernel modules the way modprobe does: it reads the
// depmod index files of a modules tree (modules.dep, modules.alias,
// modules.softdep, modules.builtin) and inserts a module after its
// dependencies and `pre:` soft dependencies, each once. It is pure Go; the
// insertion itself is a function the caller chooses (Insert for the kernel,
// a fake in tests).
package kmod

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoModulesDep means the modules tree has no modules.dep (depmod was not run).
var ErrNoModulesDep = errors.New("modules.dep missing (run depmod)")

// ErrNotFound means no module, builtin or alias has the requested name.
var ErrNotFound = errors.New("module not found")

// Module is one loadable module of the tree.
type Module struct {
	Name string   // normalized: '-' replaced by '_'
	Path string   // relative to the modules directory, as in modules.dep
	Deps []string // names of the modules it needs, as listed by depmod
}

// Softdep holds the soft dependencies of one module; entries are module
// names or aliases.
type Softdep struct {
	Pre, Post []string
}

type alias struct {
	pattern, module string
}

// Index is a parsed modules tree. It is read-only after Open (and AddConfig)
// and safe for concurrent readers.
type Index struct {
	dir       string
	modules   map[string]*Module
	order     []string // module names in modules.dep order
	builtin   map[string]bool
	aliases   []alias
	softdeps  map[string]Softdep
	options   map[string]string
	blacklist map[string]bool
}

// Name normalizes a module name or file name: directory and .ko suffixes
// are dropped and '-' becomes '_' ("usb-storage.ko.xz" -> "usb_storage").
func Name(s string) string {
	s = filepath.Base(s)
	if i := strings.Index(s, ".ko"); i >= 0 && (i+3 == len(s) || s[i+3] == '.') {
		s = s[:i]
	}
	return strings.ReplaceAll(s, "-", "_")
}

// Open reads the index files of dir (a /lib/modules/<version> directory).
// modules.dep is required; modules.alias, modules.softdep, modules.builtin
// and modules.builtin.modinfo are read when present.
func Open(dir string) (*Index, error) {
	ix := &Index{
		dir:       dir,
		modules:   map[string]*Module{},
		builtin:   map[string]bool{},
		softdeps:  map[string]Softdep{},
		options:   map[string]string{},
		blacklist: map[string]bool{},
	}
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open modules index %s: %w", dir, ErrNoModulesDep)
	}
	if err != nil {
		return nil, fmt.Errorf("open modules index: %w", err)
	}
	if err := ix.parseDep(bytes.NewReader(dep)); err != nil {
		return nil, fmt.Errorf("parse %s/modules.dep: %w", dir, err)
	}
	optional := []struct {
		name  string
		parse func(io.Reader) error
	}{
		{"modules.builtin", ix.parseBuiltin},
		{"modules.builtin.modinfo", ix.parseBuiltinModinfo},
		{"modules.alias", ix.AddConfig},
		{"modules.softdep", ix.AddConfig},
	}
	for _, f := range optional {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open modules index: %w", err)
		}
		if err := f.parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("parse %s/%s: %w", dir, f.name, err)
		}
	}
	return ix, nil
}

// Dir returns the modules directory the index was read from.
func (ix *Index) Dir() string { return ix.dir }

func (ix *Index) parseDep(r io.Reader) error {
	return eachLine(r, func(line string) error {
		path, deps, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("line %q: no ':'", line)
		}
		m := &Module{Name: Name(path), Path: path}
		for _, d := range strings.Fields(deps) {
			m.Deps = append(m.Deps, Name(d))
		}
		if _, dup := ix.modules[m.Name]; !dup {
			ix.order = append(ix.order, m.Name)
		}
		ix.modules[m.Name] = m
		return nil
	})
}

func (ix *Index) parseBuiltin(r io.Reader) error {
	return eachLine(r, func(line string) error {
		ix.builtin[Name(line)] = true
		return nil
	})
}

// parseBuiltinModinfo reads the NUL-separated "module.key=value" records of
// modules.builtin.modinfo and keeps the aliases of built-in modules.
func (ix *Index) parseBuiltinModinfo(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, rec := range bytes.Split(data, []byte{0}) {
		key, value, ok := strings.Cut(string(rec), "=")
		mod, field, ok2 := strings.Cut(key, ".")
		if !ok || !ok2 {
			continue
		}
		ix.builtin[Name(mod)] = true
		if field == "alias" {
			ix.aliases = append(ix.aliases, alias{pattern: value, module: Name(mod)})
		}
	}
	return nil
}

// AddConfig reads modprobe.d-style lines: `alias PATTERN MODULE`,
// `softdep MODULE pre: A B post: C`, `options MODULE PARAMS` and
// `blacklist MODULE`. Other commands (install, remove, include) are ignored.
// modules.alias and modules.softdep use the same syntax.
func (ix *Index) AddConfig(r io.Reader) error {
	return eachLine(r, func(line string) error {
		f := strings.Fields(line)
		switch f[0] {
		case "alias":
			if len(f) != 3 {
				return fmt.Errorf("line %q: want alias PATTERN MODULE", line)
			}
			ix.aliases = append(ix.aliases, alias{pattern: f[1], module: Name(f[2])})
		case "softdep":
			if len(f) < 2 {
				return fmt.Errorf("line %q: want softdep MODULE and its dependencies", line)
			}
			name := Name(f[1])
			sd := ix.softdeps[name]
			mode := "" // like kmod, names before "pre:" or "post:" are ignored
			for _, w := range f[2:] {
				switch {
				case w == "pre:" || w == "post:":
					mode = w
				case mode == "pre:":
					sd.Pre = append(sd.Pre, w)
				case mode == "post:":
					sd.Post = append(sd.Post, w)
				}
			}
			ix.softdeps[name] = sd
		case "options":
			if len(f) < 2 {
				return fmt.Errorf("line %q: want options MODULE PARAMS", line)
			}
			name := Name(f[1])
			ix.options[name] = strings.TrimSpace(ix.options[name] + " " + strings.Join(f[2:], " "))
		case "blacklist":
			if len(f) == 2 {
				ix.blacklist[Name(f[1])] = true
			}
		}
		return nil
	})
}

// eachLine calls fn for every line that is not blank or a # comment.
func eachLine(r io.Reader, fn func(line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Module returns the loadable module called name (normalized).
func (ix *Index) Module(name string) (*Module, bool) {
	m, ok := ix.modules[Name(name)]
	return m, ok
}

// Modules returns every loadable module in modules.dep order.
func (ix *Index) Modules() []*Module {
	out := make([]*Module, 0, len(ix.order))
	for _, n := range ix.order {
		out = append(out, ix.modules[n])
	}
	return out
}

// Builtin reports whether name is compiled into the kernel.
func (ix *Index) Builtin(name string) bool { return ix.builtin[Name(name)] }

// Softdeps returns the soft dependencies declared for a module.
func (ix *Index) Softdeps(name string) Softdep { return ix.softdeps[Name(name)] }

// Options returns the parameters configured for a module ("" if none).
func (ix *Index) Options(name string) string { return ix.options[Name(name)] }

// Blacklisted reports whether a module must not be loaded through an alias.
func (ix *Index) Blacklisted(name string) bool { return ix.blacklist[Name(name)] }

// Lookup returns the modules (loadable or builtin) whose alias pattern
// matches s, in index order without repeats. Like kmod it also tries s with
// '-' and '_' treated alike.
func (ix *Index) Lookup(s string) []string {
	var out []string
	seen := map[string]bool{}
	norm := strings.ReplaceAll(s, "-", "_")
	for _, a := range ix.aliases {
		if seen[a.module] {
			continue
		}
		if match(a.pattern, s) || (norm != s && match(strings.ReplaceAll(a.pattern, "-", "_"), norm)) {
			seen[a.module] = true
			out = append(out, a.module)
		}
	}
	return out
}

// Path returns the absolute file of a module.
func (ix *Index) Path(m *Module) string {
	if filepath.IsAbs(m.Path) {
		return m.Path
	}
	return filepath.Join(ix.dir, m.Path)
}
