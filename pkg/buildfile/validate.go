package buildfile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// volumeNameRE is LinuxKit's rule for volume names.
var volumeNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// validator runs the checks LinuxKit makes after decoding, keeping the
// first error. Nodes give the line of each offending value.
type validator struct {
	file string
	err  error
}

func (v *validator) fail(n *yaml.Node, p path, format string, args ...any) {
	if v.err != nil {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	v.err = &Error{File: v.file, Line: line, Path: string(p), Msg: fmt.Sprintf(format, args...)}
}

func validate(c *Config, root *yaml.Node, file string) error {
	v := &validator{file: file}
	// A kernel section without an image is allowed: a later file may give it.
	if c.Kernel.Image != "" {
		_, kn := mapValue(root, "kernel")
		_, iv := mapValue(kn, "image")
		v.ref(iv, "kernel.image", c.Kernel.Image)
	}
	_, in := mapValue(root, "init")
	for i, ref := range c.Init {
		v.ref(item(in, i), path("init").index(i), ref)
	}
	for _, sec := range []struct {
		name   string
		images []*Image
	}{{"onboot", c.Onboot}, {"onshutdown", c.Onshutdown}, {"services", c.Services}} {
		_, sn := mapValue(root, sec.name)
		for i, img := range sec.images {
			v.image(img, item(sn, i), path(sec.name).index(i))
		}
	}
	v.err = firstErr(v.err, uniqueServices(c.Services))
	_, fn := mapValue(root, "files")
	for i := range c.Files {
		v.fileEntry(&c.Files[i], item(fn, i), path("files").index(i))
	}
	_, vn := mapValue(root, "volumes")
	for i, vol := range c.Volumes {
		v.volume(vol, item(vn, i), path("volumes").index(i))
	}
	v.err = firstErr(v.err, uniqueVolumes(c.Volumes))
	return v.err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ref checks an image reference.
func (v *validator) ref(n *yaml.Node, p path, ref string) {
	if _, err := CanonicalRef(ref); err != nil {
		v.fail(n, p, "bad image reference %q: %v", ref, unwrapRefErr(err))
	}
}

func unwrapRefErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i >= 0 && strings.HasPrefix(s, "image reference") {
		return s[i+2:]
	}
	return s
}

// entryPath is the path of a sequence entry with its label.
func entryPath(p path, label string) path {
	if label == "" {
		return p
	}
	return p.label(label)
}

func (v *validator) image(img *Image, n *yaml.Node, p path) {
	p = entryPath(p, img.Name)
	switch {
	case img.Name == "":
		v.fail(n, p, "missing name: every entry needs a name and an image")
	case img.Name == "." || img.Name == ".." || strings.ContainsAny(img.Name, "/\x00"):
		_, nn := mapValue(n, "name")
		v.fail(nn, p.key("name"), "bad name %q: a name may not contain '/' or be '.' or '..'", img.Name)
	}
	if img.Image == "" {
		v.fail(n, p, "missing image: every entry needs a name and an image")
	} else {
		_, in := mapValue(n, "image")
		v.ref(in, p.key("image"), img.Image)
	}
	v.imageConfig(&img.ImageConfig, n, p)
}

// imageConfig checks the string-encoded options of an entry or a label.
func (v *validator) imageConfig(ic *ImageConfig, n *yaml.Node, p path) {
	strs := func(key string, list *[]string, check func(string) error) {
		if list == nil {
			return
		}
		_, ln := mapValue(n, key)
		for i, s := range *list {
			if err := check(s); err != nil {
				v.fail(item(ln, i), p.key(key).index(i), "%v", err)
			}
		}
	}
	caps := func(key string, list *[]string) {
		if list == nil {
			return
		}
		if _, err := ExpandCapabilities(*list); err != nil {
			_, ln := mapValue(n, key)
			for i, c := range *list {
				if !KnownCapability(c) {
					v.fail(item(ln, i), p.key(key).index(i), "%v", err)
				}
			}
		}
	}
	caps("capabilities", ic.Capabilities)
	caps("capabilities.add", ic.CapabilitiesAdd)
	caps("ambient", ic.Ambient)
	bind := func(s string) error { _, err := ParseBind(s); return err }
	strs("binds", ic.Binds, bind)
	strs("binds.add", ic.BindsAdd, bind)
	strs("tmpfs", ic.Tmpfs, func(s string) error { _, err := ParseTmpfs(s); return err })
	strs("rlimits", ic.Rlimits, func(s string) error { _, err := ParseRlimit(s); return err })
	if ic.Mounts != nil {
		_, ln := mapValue(n, "mounts")
		for i, m := range *ic.Mounts {
			if _, err := ResolveMount(m); err != nil {
				v.fail(item(ln, i), p.key("mounts").index(i), "%v", err)
			}
		}
	}
	if ic.Devices != nil {
		_, ln := mapValue(n, "devices")
		for i, d := range *ic.Devices {
			if d.Path == "all" {
				continue
			}
			if _, err := strconv.ParseInt(d.Mode, 8, 32); err != nil {
				v.fail(item(ln, i), p.key("devices").index(i), "device %q: mode %q: expected an octal mode like \"0666\"", d.Path, d.Mode)
			}
		}
	}
}

func (v *validator) fileEntry(f *File, n *yaml.Node, p path) {
	p = entryPath(p, f.Path)
	if f.Path == "" {
		v.fail(n, p, "missing path")
		return
	}
	var given []string
	if f.Contents != nil {
		given = append(given, "contents")
	}
	if f.Source != "" {
		given = append(given, "source")
	}
	if f.Symlink != "" {
		given = append(given, "symlink")
	}
	if f.Metadata != "" {
		given = append(given, "metadata")
	}
	if f.Directory {
		given = append(given, "directory")
	}
	switch {
	case len(given) == 0:
		v.fail(n, p, "nothing to write: give one of contents, source, symlink, metadata or directory: true")
	case len(given) > 1:
		_, second := mapValue(n, given[1])
		if given[1] == "directory" {
			_, second = mapValue(n, "directory")
		}
		v.fail(second, p, "both %s and %s given: give only one of contents, source, symlink, metadata or directory", given[0], given[1])
	}
	if f.Metadata != "" && f.Metadata != "yaml" && f.Metadata != "json" {
		_, mn := mapValue(n, "metadata")
		v.fail(mn, p.key("metadata"), "expected yaml or json, got %q", f.Metadata)
	}
	if f.Mode != "" {
		if _, err := ParseMode(f.Mode); err != nil {
			_, mn := mapValue(n, "mode")
			v.fail(mn, p.key("mode"), "expected an octal permission like \"0644\", got %q", f.Mode)
		}
	}
}

func (v *validator) volume(vol *Volume, n *yaml.Node, p path) {
	p = entryPath(p, vol.Name)
	if !volumeNameRE.MatchString(vol.Name) {
		_, nn := mapValue(n, "name")
		if nn == nil {
			nn = n
		}
		v.fail(nn, p.key("name"), "bad volume name %q: expected lower-case letters, digits, '_' and '-'", vol.Name)
	}
	if vol.Image != "" {
		_, in := mapValue(n, "image")
		v.ref(in, p.key("image"), vol.Image)
	}
}

// uniqueServices reports a service name used twice, naming both places.
func uniqueServices(svcs []*Image) error {
	seen := map[string]*Image{}
	for i, s := range svcs {
		if first, ok := seen[s.Name]; ok {
			return errAt(s.pos, string(path("services").index(i).label(s.Name)),
				"duplicate service name %q, first used at %s", s.Name, first.pos)
		}
		seen[s.Name] = s
	}
	return nil
}

// uniqueVolumes reports a volume name used twice, naming both places.
func uniqueVolumes(vols []*Volume) error {
	seen := map[string]*Volume{}
	for i, vol := range vols {
		if first, ok := seen[vol.Name]; ok {
			return errAt(vol.pos, string(path("volumes").index(i).label(vol.Name)),
				"duplicate volume name %q, first used at %s", vol.Name, first.pos)
		}
		seen[vol.Name] = vol
	}
	return nil
}
