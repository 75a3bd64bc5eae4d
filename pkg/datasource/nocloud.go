package datasource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Finder makes the filesystem with a given label readable as a directory.
// The Linux implementation (pkg/datasource/blockdev) scans block devices and
// mounts the match read-only; tests use DirFinder.
type Finder interface {
	// Find returns the directory holding the root of the filesystem
	// labelled label (compared without regard to case), the device it came
	// from, and a function that releases it (unmounts). When no filesystem
	// has the label, the error matches fs.ErrNotExist.
	Find(ctx context.Context, label string) (dir, device string, release func() error, err error)
}

// DirFinder is a Finder over directories that are already there: label to
// directory. Labels are matched without regard to case.
type DirFinder map[string]string

func (d DirFinder) Find(ctx context.Context, label string) (string, string, func() error, error) {
	if err := ctx.Err(); err != nil {
		return "", "", nil, err
	}
	for l, dir := range d {
		if strings.EqualFold(l, label) {
			return dir, dir, func() error { return nil }, nil
		}
	}
	return "", "", nil, fmt.Errorf("no filesystem labelled %q: %w", label, fs.ErrNotExist)
}

// Labels of the filesystems NoCloud and ConfigDrive look for.
const (
	LabelNoCloud     = "cidata"
	LabelConfigDrive = "config-2"
)

// NoCloud reads a NoCloud seed: the files user-data, meta-data (YAML),
// vendor-data and network-config at the root of a filesystem labelled
// "cidata" (ISO9660 or vfat; the label is matched without regard to case).
type NoCloud struct {
	// Dir, when set, is read directly instead of looking for a labelled
	// filesystem (e.g. nocloud:/media/cidata).
	Dir string
	// Finder looks the filesystem up by label.
	Finder Finder
	// Label overrides LabelNoCloud.
	Label string
}

func (s *NoCloud) Name() string { return "nocloud" }
func (s *NoCloud) Kind() Kind   { return Local }

func (s *NoCloud) Fetch(ctx context.Context) (*Data, error) {
	var d *Data
	err := withDir(ctx, s.Dir, s.Finder, orString(s.Label, LabelNoCloud), func(dir, device string) error {
		var err error
		d, err = readNoCloud(dir)
		if d != nil {
			d.Source = "nocloud:" + device
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nocloud: %w", err)
	}
	return d, nil
}

func readNoCloud(dir string) (*Data, error) {
	user, err := readOptional(filepath.Join(dir, "user-data"))
	if err != nil {
		return nil, err
	}
	meta, err := readOptional(filepath.Join(dir, "meta-data"))
	if err != nil {
		return nil, err
	}
	vendor, err := readOptional(filepath.Join(dir, "vendor-data"))
	if err != nil {
		return nil, err
	}
	network, err := readOptional(filepath.Join(dir, "network-config"))
	if err != nil {
		return nil, err
	}
	if user == nil && meta == nil {
		return nil, fmt.Errorf("%s holds neither user-data nor meta-data: %w", dir, ErrNotFound)
	}
	md, err := parseNoCloudMeta(meta)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "meta-data"), err)
	}
	d := &Data{UserData: nilIfEmpty(user), VendorData: nilIfEmpty(vendor), NetworkConfig: nilIfEmpty(network), MetaData: md}
	if d.NetworkConfig != nil {
		d.NetworkFormat = NetworkCloudInit
	}
	return d, nil
}

// parseNoCloudMeta decodes NoCloud meta-data (YAML or JSON). Keys are kept as
// written; public-keys is normalised to []string.
func parseNoCloudMeta(b []byte) (map[string]any, error) {
	md := map[string]any{}
	if len(b) == 0 {
		return md, nil
	}
	if err := yaml.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("parse meta-data: %w", err)
	}
	if md == nil {
		md = map[string]any{}
	}
	for _, k := range []string{MetaInstanceID, MetaLocalHostname} {
		if v, ok := md[k]; ok {
			delete(md, k)
			setMeta(md, k, scalarString(v))
		}
	}
	if v, ok := md[MetaPublicKeys]; ok {
		keys := anyKeys(v)
		delete(md, MetaPublicKeys)
		setMeta(md, MetaPublicKeys, keys)
	}
	return md, nil
}

// anyKeys flattens the shapes public keys come in: a string (one key per
// line), a list of strings, or a map of name to key(s). Map entries are
// taken in name order.
func anyKeys(v any) []string {
	var keys []string
	switch v := v.(type) {
	case string:
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				keys = append(keys, line)
			}
		}
	case []any:
		for _, e := range v {
			keys = append(keys, anyKeys(e)...)
		}
	case []string:
		for _, e := range v {
			keys = append(keys, anyKeys(e)...)
		}
	case map[string]any:
		names := make([]string, 0, len(v))
		for n := range v {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			keys = append(keys, anyKeys(v[n])...)
		}
	}
	return keys
}

// withDir runs fn on dir when set, or on the directory the finder gives for
// label, released afterwards. A missing filesystem is ErrNotFound.
func withDir(ctx context.Context, dir string, finder Finder, label string, fn func(dir, device string) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", dir, ErrNotFound)
		}
		return fn(dir, dir)
	}
	if finder == nil {
		return fmt.Errorf("no device finder: %w", ErrNotFound)
	}
	mnt, device, release, err := finder.Find(ctx, label)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", err, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("find filesystem %q: %w", label, err)
	}
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = fmt.Errorf("release %s: %w", device, rerr)
		}
	}()
	return fn(mnt, device)
}

// readOptional reads a file; a missing file gives nil, nil.
func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
