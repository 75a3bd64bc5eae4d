package kmod

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// InsertFunc puts one module file into the kernel with the given parameters.
// Insert is the real one; tests pass a fake. An error wrapping
// syscall.EEXIST (already loaded) counts as success.
type InsertFunc func(path, params string) error

// Loader inserts modules of an Index, each at most once. It is not safe for
// concurrent use.
type Loader struct {
	ix      *Index
	insert  InsertFunc
	log     *slog.Logger
	done    map[string]error
	seen    map[string]bool // modaliases Coldplug already handled
	warned  map[string]bool // soft dependencies already reported as failed
	loaded  []string
	elapsed time.Duration
}

// NewLoader returns a Loader that inserts with insert and reports each
// insertion and each failed soft dependency to log (nil: discard).
func NewLoader(ix *Index, insert InsertFunc, log *slog.Logger) *Loader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loader{ix: ix, insert: insert, log: log, done: map[string]error{}, seen: map[string]bool{}, warned: map[string]bool{}}
}

// Loaded returns the modules inserted so far (or found already loaded), in order.
func (l *Loader) Loaded() []string { return append([]string(nil), l.loaded...) }

// Elapsed returns the time spent inside the insert function so far.
func (l *Loader) Elapsed() time.Duration { return l.elapsed }

func (l *Loader) walker(ctx context.Context, blacklist bool) *walker {
	w := &walker{ix: l.ix, done: l.done}
	w.visit = func(m *Module) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		err := l.insert(l.ix.Path(m), l.ix.options[m.Name])
		d := time.Since(start)
		l.elapsed += d
		if err != nil && !errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("insert %s: %w", m.Name, err)
		}
		l.log.Debug("module inserted", "module", m.Name, "duration", d, "existed", err != nil)
		l.loaded = append(l.loaded, m.Name)
		return nil
	}
	if blacklist {
		w.skip = func(name string) bool { return l.ix.blacklist[name] }
	}
	w.softFn = func(name string, err error) {
		if l.warned[Name(name)] {
			return
		}
		l.warned[Name(name)] = true
		l.log.Info("optional module not loaded", "module", name, "err", err)
	}
	return w
}

// Load inserts a module by name (or alias, as modprobe accepts), after its
// soft `pre:` dependencies and its dependencies. Built-in modules and
// modules already loaded succeed without work.
func (l *Loader) Load(ctx context.Context, name string) error {
	if err := l.walker(ctx, false).walk(name); err != nil {
		return fmt.Errorf("load module %s: %w", name, err)
	}
	return nil
}

// LoadAlias loads every module whose alias matches modalias (a device's
// /sys/.../modalias), skipping blacklisted modules. It returns an error
// wrapping ErrNotFound when nothing matches.
func (l *Loader) LoadAlias(ctx context.Context, modalias string) error {
	if err := l.walker(ctx, true).walkAlias(modalias); err != nil {
		return fmt.Errorf("load alias %s: %w", modalias, err)
	}
	return nil
}

// Coldplug reads every modalias file under sysfsRoot/devices and loads the
// modules matching each value not handled before. It returns how many new
// modaliases it found; callers repeat it while that is not zero, since new
// drivers add devices (a SCSI host brings its disks). Aliases matching no
// module are not errors.
func (l *Loader) Coldplug(ctx context.Context, sysfsRoot string) (int, error) {
	var found []string
	root := filepath.Join(sysfsRoot, "devices")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // a device went away or is unreadable: skip it
		}
		if d.Name() != "modalias" || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p) //nolint:gosec // G122: sysfs is written by the kernel only
		if err != nil {
			return nil
		}
		if a := strings.TrimSpace(string(data)); a != "" && !l.seen[a] {
			l.seen[a] = true
			found = append(found, a)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("coldplug %s: %w", root, err)
	}
	sort.Strings(found)
	var errs []error
	for _, a := range found {
		if err := ctx.Err(); err != nil {
			return len(found), err
		}
		if err := l.LoadAlias(ctx, a); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return len(found), errors.Join(errs...)
}
