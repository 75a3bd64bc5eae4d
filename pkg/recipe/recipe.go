// Package recipe builds ros component images from declarative recipes
// (images/<name>/image.yml) into the local OCI store: Debian packages
// unpacked with mmdebstrap, Go programs of this repository, files,
// keep/prune rules, a LinuxKit label, and for kernels a module allowlist.
// Builds are reproducible and cached by a content tag.
package recipe

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ros-os/ros/pkg/layer"
	"gopkg.in/yaml.v3"
)

// FileName is the recipe file inside a recipe folder.
const FileName = "image.yml"

// Recipe is the content of an image.yml.
type Recipe struct {
	// Suite is the Debian suite packages come from (default bookworm).
	Suite string `yaml:"suite"`
	// Packages are Debian packages unpacked with their dependencies
	// (mmdebstrap --variant=extract: no maintainer scripts run).
	Packages []string `yaml:"packages"`
	// Sources override the apt source lines (default: suite, -updates and
	// -security from deb.debian.org, main).
	Sources []string `yaml:"sources"`
	// Keep, when set, drops every package file that no pattern matches,
	// except the shared libraries (and interpreters) kept ELF programs need
	// and the targets of kept symlinks. A pattern matching a directory
	// keeps all of it.
	Keep []string `yaml:"keep"`
	// Prune deletes matching package files (after Keep), on top of the
	// built-in list of docs, man pages, locales and packaging leftovers.
	Prune []string `yaml:"prune"`
	// Go programs of this repository compiled into the image.
	Go []GoProgram `yaml:"go"`
	// Files are added after the packages; keep and prune never remove them.
	Files []File `yaml:"files"`
	// Kernel turns the unpacked Debian kernel into LinuxKit's kernel image
	// layout: /kernel and /kernel.tar with the allowlisted modules.
	Kernel *Kernel `yaml:"kernel"`

	Entrypoint []string          `yaml:"entrypoint"`
	Cmd        []string          `yaml:"cmd"`
	Env        []string          `yaml:"env"`
	Workdir    string            `yaml:"workdir"`
	Labels     map[string]string `yaml:"labels"`
	// Config is the org.mobyproject.config label (LinuxKit image defaults),
	// written as JSON.
	Config map[string]any `yaml:"config"`

	configLine int
}

// GoProgram is a Go main package compiled into the image.
type GoProgram struct {
	Package string   `yaml:"package"` // "./os/cmd/ros", relative to the module root
	Output  string   `yaml:"output"`  // absolute path in the image
	Tags    []string `yaml:"tags"`    // build tags
	CGO     bool     `yaml:"cgo"`     // CGO_ENABLED=1 (default 0: static)
	Ldflags string   `yaml:"ldflags"` // extra -ldflags, after "-s -w"
	// Static links a cgo program statically: CGO_ENABLED=1, external
	// linking with -static, and the tags netgo and osusergo (pure-Go DNS
	// and user lookup, which a static glibc cannot do) and rosstatic
	// (packages with C libraries name their static archives under it, see
	// pkg/state). The binary needs no libc or loader in the image.
	Static bool `yaml:"static"`
	line   int
}

// File is one entry added to the image. Exactly one of Source, Contents,
// Directory, Symlink and Concat is set.
type File struct {
	Path      string   `yaml:"path"`
	Source    string   `yaml:"source"`    // file in the recipe folder
	Contents  *string  `yaml:"contents"`  // inline content
	Directory bool     `yaml:"directory"` // an empty directory
	Symlink   string   `yaml:"symlink"`   // symlink target
	Concat    []string `yaml:"concat"`    // concatenate package files matching these patterns (sorted)
	Mode      string   `yaml:"mode"`      // octal; default 0644, 0755 for directories and sources that are executable
	UID       int      `yaml:"uid"`
	GID       int      `yaml:"gid"`
	line      int
}

// Kernel configures the kernel image transformation.
type Kernel struct {
	// Allowlist names a file in the recipe folder listing the modules to
	// keep: one module name or glob per line (nft_*), or a path glob with a
	// "/" relative to lib/modules/<ver>/ (kernel/fs/ext4/**); "#" starts a
	// comment. Their modules.dep and softdep closure is kept too.
	Allowlist string `yaml:"allowlist"`
}

func (g *GoProgram) UnmarshalYAML(n *yaml.Node) error {
	type plain GoProgram
	g.line = n.Line
	return n.Decode((*plain)(g))
}

func (f *File) UnmarshalYAML(n *yaml.Node) error {
	type plain File
	f.line = n.Line
	return n.Decode((*plain)(f))
}

// Load reads and validates dir/image.yml. Errors name the file and line.
func Load(dir string) (*Recipe, error) {
	p := filepath.Join(dir, FileName)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read recipe: %w", err)
	}
	r, err := Parse(p, b)
	if err != nil {
		return nil, err
	}
	if err := r.checkSources(p, dir); err != nil {
		return nil, err
	}
	return r, nil
}

// Parse decodes and validates recipe text; file is used in messages.
func Parse(file string, b []byte) (*Recipe, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, yamlErr(file, err))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty recipe", file)
	}
	root := doc.Content[0]
	if err := checkKeys(file, root, recipeType, ""); err != nil {
		return nil, err
	}
	var r Recipe
	if err := root.Decode(&r); err != nil {
		return nil, yamlErr(file, err)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "config" {
			r.configLine = root.Content[i].Line
		}
	}
	if err := r.validate(file); err != nil {
		return nil, err
	}
	return &r, nil
}

// yamlErr rewrites yaml.v3's "line N: msg" into "file:N: msg".
func yamlErr(file string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if strings.HasPrefix(msg, "line ") {
			if n, rest, ok := strings.Cut(strings.TrimPrefix(msg, "line "), ":"); ok {
				return fmt.Errorf("%s:%s:%s", file, n, rest)
			}
		}
		return fmt.Errorf("%s: %s", file, msg)
	}
	var msgs []string
	for _, e := range te.Errors {
		if strings.HasPrefix(e, "line ") {
			if n, rest, ok := strings.Cut(strings.TrimPrefix(e, "line "), ":"); ok {
				msgs = append(msgs, fmt.Sprintf("%s:%s:%s", file, n, rest))
				continue
			}
		}
		msgs = append(msgs, file+": "+e)
	}
	return fmt.Errorf("%s", strings.Join(msgs, "\n"))
}

// mobyConfigKeys are the keys LinuxKit accepts in an org.mobyproject.config label.
var mobyConfigKeys = map[string]bool{
	"capabilities": true, "ambient": true, "mounts": true, "binds": true, "binds.add": true,
	"tmpfs": true, "command": true, "env": true, "cwd": true, "net": true, "pid": true,
	"ipc": true, "uts": true, "userns": true, "hostname": true, "readonly": true,
	"maskedPaths": true, "readonlyPaths": true, "uid": true, "gid": true,
	"additionalGids": true, "noNewPrivileges": true, "oomScoreAdj": true,
	"disableOOMKiller": true, "rootfsPropagation": true, "cgroupsPath": true,
	"resources": true, "sysctl": true, "rlimits": true, "uidMappings": true,
	"gidMappings": true, "runtime": true, "devices": true, "annotations": true,
}

func (r *Recipe) validate(file string) error {
	at := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
	}
	for _, p := range append(append([]string(nil), r.Keep...), r.Prune...) {
		if !layer.ValidPattern(p) {
			return fmt.Errorf("%s: bad pattern %q in keep/prune", file, p)
		}
	}
	if r.Kernel != nil && len(r.Packages) == 0 {
		return fmt.Errorf("%s: kernel: needs packages (e.g. linux-image-amd64)", file)
	}
	outputs := map[string]bool{}
	for i, g := range r.Go {
		if !strings.HasPrefix(g.Package, "./") {
			return at(g.line, "go[%d].package: %q must be a path relative to the module root, starting with ./", i, g.Package)
		}
		if !path.IsAbs(g.Output) {
			return at(g.line, "go[%d].output: %q must be an absolute path", i, g.Output)
		}
		if outputs[g.Output] {
			return at(g.line, "go[%d].output: %s given twice", i, g.Output)
		}
		outputs[g.Output] = true
	}
	for i, f := range r.Files {
		if !path.IsAbs(f.Path) || layer.Clean(f.Path) == "" {
			return at(f.line, "files[%d].path: %q must be an absolute path", i, f.Path)
		}
		n := 0
		for _, set := range []bool{f.Source != "", f.Contents != nil, f.Directory, f.Symlink != "", len(f.Concat) > 0} {
			if set {
				n++
			}
		}
		if n != 1 {
			return at(f.line, "files[%d] (%s): set exactly one of source, contents, directory, symlink, concat", i, f.Path)
		}
		if f.Mode != "" {
			if _, err := strconv.ParseUint(f.Mode, 8, 32); err != nil {
				return at(f.line, "files[%d].mode: %q is not an octal mode", i, f.Mode)
			}
		}
		if f.Source != "" && (filepath.IsAbs(f.Source) || strings.HasPrefix(filepath.Clean(f.Source), "..")) {
			return at(f.line, "files[%d].source: %q must be inside the recipe folder", i, f.Source)
		}
	}
	for k := range r.Config {
		if !mobyConfigKeys[k] {
			return at(r.configLine, "config: unknown key %q (not an org.mobyproject.config key)", k)
		}
	}
	return nil
}

// checkSources verifies that files the recipe refers to exist.
func (r *Recipe) checkSources(file, dir string) error {
	for i, f := range r.Files {
		if f.Source == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, f.Source)); err != nil {
			return fmt.Errorf("%s:%d: files[%d].source: %w", file, f.line, i, err)
		}
	}
	if r.Kernel != nil {
		if r.Kernel.Allowlist == "" {
			return fmt.Errorf("%s: kernel.allowlist: required", file)
		}
		if _, err := os.Stat(filepath.Join(dir, r.Kernel.Allowlist)); err != nil {
			return fmt.Errorf("%s: kernel.allowlist: %w", file, err)
		}
	}
	return nil
}

func (f *File) mode(def int64) int64 {
	if f.Mode == "" {
		return def
	}
	m, _ := strconv.ParseUint(f.Mode, 8, 32)
	return int64(m)
}
