package buildfile

import (
	"path/filepath"
	"strings"
)

// TemplatePrefix starts an image reference that names a package folder
// instead of an image, as in LinuxKit: "@pkg:./pkg/init". Such references
// are kept as written until ResolveTemplates replaces them.
const TemplatePrefix = "@pkg:"

// IsTemplate reports whether ref is a "@pkg:" template.
func IsTemplate(ref string) bool { return strings.HasPrefix(ref, TemplatePrefix) }

// PackageResolver returns the image reference built from the package in
// folder dir (already joined to the build file's folder).
type PackageResolver func(dir string) (string, error)

// ResolveTemplates replaces every "@pkg:" image reference in c (kernel,
// init, onboot, onshutdown, services, volumes) with what resolve returns
// for its folder, taken relative to the build file that holds it.
// Errors name the file and line of the reference.
func ResolveTemplates(c *Config, resolve PackageResolver) error {
	one := func(ref *string, p Pos, at path) error {
		if !IsTemplate(*ref) {
			return nil
		}
		dir := strings.TrimPrefix(*ref, TemplatePrefix)
		if !filepath.IsAbs(dir) && p.File != "" && p.File != "-" {
			dir = filepath.Join(filepath.Dir(p.File), dir)
		}
		r, err := resolve(dir)
		if err != nil {
			return errAt(p, string(at), "resolve %s: %v", *ref, err)
		}
		*ref = r
		return nil
	}
	if err := one(&c.Kernel.Image, c.Kernel.pos, "kernel.image"); err != nil {
		return err
	}
	for i := range c.Init {
		if err := one(&c.Init[i], c.InitPos(i), path("init").index(i)); err != nil {
			return err
		}
	}
	for _, sec := range []struct {
		name   string
		images []*Image
	}{{"onboot", c.Onboot}, {"onshutdown", c.Onshutdown}, {"services", c.Services}} {
		for i, img := range sec.images {
			if err := one(&img.Image, img.pos, path(sec.name).index(i).label(img.Name).key("image")); err != nil {
				return err
			}
		}
	}
	for i, v := range c.Volumes {
		if err := one(&v.Image, v.pos, path("volumes").index(i).label(v.Name).key("image")); err != nil {
			return err
		}
	}
	return nil
}
