package datasource

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ros-os/ros/pkg/datasource/blockdev"
)

// ErrUnknownSource is returned by FromNames for a name that is not built in.
var ErrUnknownSource = errors.New("unknown datasource")

// Options configure the sources FromNames builds.
type Options struct {
	// Cmdline is the kernel command line for "cmdline"; when empty it is
	// read from /proc/cmdline.
	Cmdline string
	// Finder finds labelled filesystems for "nocloud" and "configdrive";
	// when nil, block devices are scanned and mounted (blockdev.Finder).
	Finder Finder
	// HTTP configures the network sources, "url" and cmdline's
	// ros.config.url. A name's argument overrides HTTP.BaseURL.
	HTTP HTTPOptions
	// Logger receives progress; it is also HTTP.Logger when that is nil.
	Logger *slog.Logger
}

type builtin struct {
	name string
	// arg says what "name:ARG" means; required arguments are marked.
	arg      string
	required bool
	build    func(arg string, o Options) Source
}

// builtins, in the default order: local sources, then network ones.
// Provider-specific metadata services come before EC2 because several
// providers (OpenStack, Hetzner ...) also emulate the EC2 paths, and their
// own API says more (vendor-data, network config).
var builtins = []builtin{
	{"cmdline", "", false, func(_ string, o Options) Source { return &Cmdline{Line: o.Cmdline, HTTP: o.HTTP} }},
	{"nocloud", "directory", false, func(a string, o Options) Source { return &NoCloud{Dir: a, Finder: o.Finder} }},
	{"configdrive", "directory", false, func(a string, o Options) Source { return &ConfigDrive{Dir: a, Finder: o.Finder} }},
	{"file", "path", true, func(a string, o Options) Source { return &File{Path: a} }},
	{"url", "URL", true, func(a string, o Options) Source { return &URL{URL: a, HTTP: o.HTTP} }},
	{"digitalocean", "base URL", false, func(a string, o Options) Source { return &DigitalOcean{HTTP: withBase(o.HTTP, a)} }},
	{"hetzner", "base URL", false, func(a string, o Options) Source { return &Hetzner{HTTP: withBase(o.HTTP, a)} }},
	{"gce", "base URL", false, func(a string, o Options) Source { return &GCE{HTTP: withBase(o.HTTP, a)} }},
	{"vultr", "base URL", false, func(a string, o Options) Source { return &Vultr{HTTP: withBase(o.HTTP, a)} }},
	{"openstack", "base URL", false, func(a string, o Options) Source { return &OpenStack{HTTP: withBase(o.HTTP, a)} }},
	{"ec2", "base URL", false, func(a string, o Options) Source { return &EC2{HTTP: withBase(o.HTTP, a)} }},
}

func withBase(o HTTPOptions, base string) HTTPOptions {
	if base != "" {
		o.BaseURL = base
	}
	return o
}

// Names returns every built-in datasource name in the default order:
//
//	cmdline, nocloud, configdrive, file, url,
//	digitalocean, hetzner, gce, vultr, openstack, ec2
//
// Local ones first: the kernel command line, then the NoCloud ("cidata") and
// config-drive ("config-2") disks, then a file; then network ones: a URL,
// the provider metadata services, and last the EC2-compatible one.
func Names() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return names
}

// DefaultNames is the list used when ros.cloud_init.datasources is not set:
// Names without "file" and "url", which need an argument.
func DefaultNames() []string {
	var names []string
	for _, b := range builtins {
		if !b.required {
			names = append(names, b.name)
		}
	}
	return names
}

// FromNames builds sources from names as written in
// ros.cloud_init.datasources: "NAME" or "NAME:ARG", where ARG is a path for
// file, a URL for url, a directory to read instead of a labelled disk for
// nocloud and configdrive, and a base URL for the metadata services (e.g.
// "ec2:http://10.0.0.1", "file:/var/lib/ros/user-data"). The order is kept.
func FromNames(names []string, opts Options) ([]Source, error) {
	if opts.HTTP.Logger == nil {
		opts.HTTP.Logger = opts.Logger
	}
	if opts.Finder == nil {
		opts.Finder = &blockdev.Finder{Logger: opts.Logger}
	}
	var srcs []Source
	var errs []error
	for _, full := range names {
		name, arg, _ := strings.Cut(strings.TrimSpace(full), ":")
		name = strings.ToLower(name)
		b, ok := lookup(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("datasource %q: %w (known: %s)", full, ErrUnknownSource, strings.Join(Names(), ", ")))
		case b.required && arg == "":
			errs = append(errs, fmt.Errorf("datasource %q: needs a %s, as %s:%s", full, b.arg, name, strings.ToUpper(strings.ReplaceAll(b.arg, " ", "_"))))
		case !b.required && arg != "" && b.arg == "":
			errs = append(errs, fmt.Errorf("datasource %q: %s takes no argument", full, name))
		default:
			srcs = append(srcs, b.build(arg, opts))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return srcs, nil
}

func lookup(name string) (builtin, bool) {
	for _, b := range builtins {
		if b.name == name {
			return b, true
		}
	}
	return builtin{}, false
}

// OfKind returns the sources of kind k, in their order.
func OfKind(srcs []Source, k Kind) []Source {
	var out []Source
	for _, s := range srcs {
		if s.Kind() == k {
			out = append(out, s)
		}
	}
	return out
}
