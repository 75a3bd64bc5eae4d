package assemble

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ros-os/ros/pkg/buildfile"
)

// ErrInvalid is wrapped by the errors of Validate.
var ErrInvalid = errors.New("invalid build")

// Validate checks what Build needs of cfg without fetching anything: every
// container has a usable name and an image, image references parse, files
// entries have one kind and a path, volumes are known where containers bind
// them, and volume formats are supported. It is the build's dry run; Parse
// has already checked the syntax and LinuxKit's own rules.
func Validate(cfg *buildfile.Config) error {
	if cfg == nil {
		return fmt.Errorf("no build config: %w", ErrInvalid)
	}
	bad := func(pos buildfile.Pos, where, format string, args ...any) error {
		return entryErr(pos, where, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid))
	}
	if cfg.Kernel.Image != "" {
		if _, err := buildfile.CanonicalRef(cfg.Kernel.Image); err != nil {
			return bad(cfg.Kernel.Pos(), "kernel", "%v", err)
		}
	}
	for i, ref := range cfg.Init {
		if _, err := buildfile.CanonicalRef(ref); err != nil {
			return bad(cfg.InitPos(i), fmt.Sprintf("init[%d]", i), "%v", err)
		}
	}
	b := &builder{cfg: cfg}
	for _, sec := range []struct {
		name    string
		entries []*buildfile.Image
	}{{"onboot", cfg.Onboot}, {"onshutdown", cfg.Onshutdown}, {"services", cfg.Services}} {
		seen := map[string]bool{}
		for i, e := range sec.entries {
			where := entryName(sec.name, i, e.Name)
			switch {
			case e.Name == "" || e.Name == "." || e.Name == ".." || strings.ContainsAny(e.Name, "/\x00"):
				return bad(e.Pos(), where, "name %q cannot be a directory name", e.Name)
			case e.Image == "":
				return bad(e.Pos(), where, "no image")
			case sec.name == "services" && seen[e.Name]:
				return bad(e.Pos(), where, "service name %q used twice", e.Name)
			}
			seen[e.Name] = true
			if _, err := buildfile.CanonicalRef(e.Image); err != nil {
				return bad(e.Pos(), where, "%v", err)
			}
			if _, err := b.withVolumes(e); err != nil {
				return bad(e.Pos(), where, "%v", err)
			}
		}
	}
	vols := map[string]bool{}
	for i, v := range cfg.Volumes {
		where := "volumes[" + strconv.Itoa(i) + "] " + strconv.Quote(v.Name)
		switch {
		case v.Name == "" || strings.ContainsAny(v.Name, "/\x00") || v.Name == "." || v.Name == "..":
			return bad(v.Pos(), where, "name %q cannot be a directory name", v.Name)
		case vols[v.Name]:
			return bad(v.Pos(), where, "volume name %q used twice", v.Name)
		case v.Format != "" && v.Format != "filesystem":
			return bad(v.Pos(), where, "format %q is not supported: expected filesystem", v.Format)
		}
		vols[v.Name] = true
		if v.Image != "" {
			if _, err := buildfile.CanonicalRef(v.Image); err != nil {
				return bad(v.Pos(), where, "%v", err)
			}
		}
	}
	for _, f := range cfg.Files {
		where := fileWhere(f)
		if cleanName(f.Path) == "" {
			return bad(f.Pos(), where, "no path")
		}
		if _, err := f.Perm(); err != nil {
			return entryErr(f.Pos(), where, err)
		}
		n := 0
		for _, set := range []bool{f.Directory, f.Symlink != "", f.Contents != nil, f.Source != "", f.Metadata != ""} {
			if set {
				n++
			}
		}
		switch {
		case n == 0:
			return bad(f.Pos(), where, "no contents: expected one of directory, symlink, contents, source, metadata")
		case n > 1:
			return bad(f.Pos(), where, "more than one of directory, symlink, contents, source, metadata")
		case f.Metadata != "" && f.Metadata != "yaml" && f.Metadata != "json":
			return bad(f.Pos(), where, "metadata %q: expected yaml or json", f.Metadata)
		}
	}
	return nil
}
