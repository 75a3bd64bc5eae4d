package kmod

import (
	"context"
	"errors"
	"fmt"
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
	read    map[string]bool // device uevent files Coldplug already read
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
	return &Loader{ix: ix, insert: insert, log: log, done: map[string]error{}, seen: map[string]bool{}, read: map[string]bool{}, warned: map[string]bool{}}
}

// modalias returns the MODALIAS value of a device's uevent file, or "" if it
// has none or cannot be read (a device went away).
func modalias(uevent string) string {
	data, err := os.ReadFile(uevent) //nolint:gosec // G304: sysfs is written by the kernel only
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "MODALIAS="); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
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

// Coldplug reads the MODALIAS of every device of a bus or a class (the
// uevent files under sysfsRoot/bus/*/devices and sysfsRoot/class/*, the
// devices `udevadm trigger` enumerates) and loads the modules matching
// each value not handled before. It returns how many new modaliases it
// found; callers repeat it while that is not zero, since new drivers add
// devices (a SCSI host brings its disks). Aliases matching no module are
// not errors.
//
// It does not walk sysfsRoot/devices: that tree has thousands of entries
// (6362 in a QEMU VM) and the same modaliases, since a device gets one
// from its bus or its class. Under TCG the first walk took 246 ms against
// 88 ms for the uevent files (the next two, with sysfs's dentries cached,
// 132 and 88 ms against 63 and 91 ms); each boot stage's modules phase
// got about 0.1 s shorter. A later pass reads only the uevent files of
// devices that were not there before.
func (l *Loader) Coldplug(ctx context.Context, sysfsRoot string) (int, error) {
	if _, err := os.Stat(filepath.Join(sysfsRoot, "bus")); err != nil {
		return 0, fmt.Errorf("coldplug: %w", err)
	}
	var found []string
	for _, pattern := range []string{"bus/*/devices/*", "class/*/*"} {
		devices, err := filepath.Glob(filepath.Join(sysfsRoot, pattern))
		if err != nil {
			return 0, fmt.Errorf("coldplug %s: %w", sysfsRoot, err)
		}
		for _, dev := range devices {
			if l.read[dev] {
				continue
			}
			l.read[dev] = true
			a := modalias(filepath.Join(dev, "uevent"))
			if a != "" && !l.seen[a] {
				l.seen[a] = true
				found = append(found, a)
			}
		}
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
