package recipe

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ros-os/ros/pkg/layer"
)

// KernelInfo describes the kernel image a build produced.
type KernelInfo struct {
	Version     string // e.g. 6.1.0-37-amd64
	Modules     int    // .ko files kept
	ModulesSize int64  // bytes of lib/modules/<ver> after pruning
	KernelSize  int64  // bytes of the kernel binary
}

// modName turns "kernel/fs/ext4/ext4.ko" or "nf-tables.ko.xz" into the
// module name modprobe uses ("ext4", "nf_tables").
func modName(p string) string {
	b := path.Base(p)
	for _, ext := range []string{".xz", ".zst", ".gz"} {
		b = strings.TrimSuffix(b, ext)
	}
	b = strings.TrimSuffix(b, ".ko")
	return strings.ReplaceAll(b, "-", "_")
}

func isModule(p string) bool {
	return strings.HasSuffix(p, ".ko") || strings.HasSuffix(p, ".ko.xz") || strings.HasSuffix(p, ".ko.zst") || strings.HasSuffix(p, ".ko.gz")
}

// kernelVersion finds the one lib/modules/<ver> of the unpacked packages
// and its boot/vmlinuz-<ver>.
func kernelVersion(t *layer.Tree) (ver, modDir, vmlinuz string, err error) {
	var found []string
	for _, base := range []string{"lib/modules", "usr/lib/modules"} {
		for _, p := range t.Paths() {
			if path.Dir(p) == base {
				if _, ok := t.Get(p + "/kernel"); ok {
					found = append(found, p)
				}
			}
		}
	}
	if len(found) != 1 {
		return "", "", "", fmt.Errorf("kernel: want exactly one lib/modules/<version> with modules, found %d %v", len(found), found)
	}
	modDir = found[0]
	ver = path.Base(modDir)
	for _, cand := range []string{"boot/vmlinuz-" + ver, "usr/lib/linux/vmlinuz-" + ver} {
		if e, ok := t.Get(cand); ok && e.Type == tar.TypeReg {
			return ver, modDir, cand, nil
		}
	}
	return "", "", "", fmt.Errorf("kernel: no boot/vmlinuz-%s in the packages", ver)
}

// parseAllowlist returns the allowlist entries without comments.
func parseAllowlist(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		out = append(out, strings.Fields(line)...)
	}
	return out
}

// modIndex is what depmod tells about a module tree.
type modIndex struct {
	paths   map[string]string   // module name -> path relative to lib/modules/<ver>
	deps    map[string][]string // module name -> module names it depends on
	soft    map[string][]string // module name -> softdep targets (names or aliases)
	aliases map[string][]string // alias -> module names
	builtin map[string]bool     // built-in module names
}

func readModIndex(dir string) (*modIndex, error) {
	ix := &modIndex{paths: map[string]string{}, deps: map[string][]string{}, soft: map[string][]string{}, aliases: map[string][]string{}, builtin: map[string]bool{}}
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	for _, line := range strings.Split(string(dep), "\n") {
		mod, deps, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n := modName(mod)
		ix.paths[n] = mod
		for _, d := range strings.Fields(deps) {
			ix.deps[n] = append(ix.deps[n], modName(d))
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.softdep")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 || f[0] != "softdep" {
				continue
			}
			n := strings.ReplaceAll(f[1], "-", "_")
			for _, x := range f[2:] {
				if x != "pre:" && x != "post:" {
					ix.soft[n] = append(ix.soft[n], x)
				}
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.alias")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "alias" {
				ix.aliases[f[1]] = append(ix.aliases[f[1]], strings.ReplaceAll(f[2], "-", "_"))
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if line != "" {
				ix.builtin[modName(line)] = true
			}
		}
	}
	return ix, nil
}

// closure returns the modules to keep: allowlist matches plus their
// modules.dep and softdep closure. A plain name (no glob) that is neither
// a module, an alias nor built in is an error, so typos are caught.
func (ix *modIndex) closure(allow []string) (map[string]bool, error) {
	keep := map[string]bool{}
	var queue []string
	add := func(n string) {
		if _, ok := ix.paths[n]; ok && !keep[n] {
			keep[n] = true
			queue = append(queue, n)
		}
	}
	names := make([]string, 0, len(ix.paths))
	for n := range ix.paths {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, a := range allow {
		matched := false
		if strings.Contains(a, "/") {
			for _, n := range names {
				if layer.Match(a, ix.paths[n]) {
					add(n)
					matched = true
				}
			}
		} else {
			pat := strings.ReplaceAll(a, "-", "_")
			for _, n := range names {
				if ok, _ := path.Match(pat, n); ok {
					add(n)
					matched = true
				}
			}
			for _, n := range ix.aliases[a] {
				add(n)
				matched = true
			}
			if ix.builtin[pat] {
				matched = true
			}
		}
		if !matched && !strings.ContainsAny(a, "*?[") {
			return nil, fmt.Errorf("kernel allowlist: %q is not a module, alias or built-in of this kernel", a)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, d := range ix.deps[n] {
			add(d)
		}
		for _, s := range ix.soft[n] {
			add(strings.ReplaceAll(s, "-", "_"))
			for _, m := range ix.aliases[s] {
				add(m)
			}
		}
	}
	return keep, nil
}

func depmod(ctx context.Context, root, ver string) error {
	bin, err := exec.LookPath("depmod")
	if err != nil {
		for _, c := range []string{"/usr/sbin/depmod", "/sbin/depmod"} {
			if _, serr := os.Stat(c); serr == nil {
				bin, err = c, nil
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("kernel: depmod not found (apt-get install kmod)")
	}
	out, err := exec.CommandContext(ctx, bin, "-b", root, ver).CombinedOutput()
	if err != nil {
		return fmt.Errorf("kernel: depmod -b %s %s: %w: %s", root, ver, err, out)
	}
	return nil
}

// kernelTree turns unpacked kernel packages into LinuxKit's kernel image
// layout: /kernel (the bzImage) and /kernel.tar holding
// lib/modules/<ver>/ with only the allowlisted modules and what they
// need, indexed by depmod.
func kernelTree(ctx context.Context, pkgs *layer.Tree, allowlist []byte, work string, epoch time.Time) (*layer.Tree, KernelInfo, error) {
	var info KernelInfo
	ver, modDir, vmlinuz, err := kernelVersion(pkgs)
	if err != nil {
		return nil, info, err
	}
	info.Version = ver
	// Materialise the module tree for depmod.
	root := filepath.Join(work, "kroot")
	dst := filepath.Join(root, "lib", "modules", ver)
	for _, p := range pkgs.Paths() {
		if !under(p, modDir) {
			continue
		}
		e, _ := pkgs.Get(p)
		target := filepath.Join(dst, strings.TrimPrefix(strings.TrimPrefix(p, modDir), "/"))
		switch e.Type {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return nil, info, err
			}
		case tar.TypeReg:
			if err := linkOrCopy(e, target); err != nil {
				return nil, info, fmt.Errorf("kernel: stage %s: %w", p, err)
			}
		}
	}
	if err := depmod(ctx, root, ver); err != nil {
		return nil, info, err
	}
	ix, err := readModIndex(dst)
	if err != nil {
		return nil, info, err
	}
	keep, err := ix.closure(parseAllowlist(allowlist))
	if err != nil {
		return nil, info, err
	}
	keptPaths := map[string]bool{}
	for n := range keep {
		keptPaths[ix.paths[n]] = true
	}
	// Drop the other modules on disk, then index what is left.
	mods := layer.NewTree()
	for _, p := range pkgs.Paths() {
		if !under(p, modDir) || p == modDir {
			continue
		}
		rel := strings.TrimPrefix(p, modDir+"/")
		e, _ := pkgs.Get(p)
		if e.Type == tar.TypeSymlink { // build, source: point at headers we do not ship
			continue
		}
		if e.Type == tar.TypeReg && isModule(rel) && !keptPaths[rel] {
			if err := os.Remove(filepath.Join(dst, rel)); err != nil {
				return nil, info, fmt.Errorf("kernel: %w", err)
			}
			continue
		}
		c := *e
		c.Path = "lib/modules/" + ver + "/" + rel
		if err := mods.Add(&c); err != nil {
			return nil, info, err
		}
	}
	if err := depmod(ctx, root, ver); err != nil {
		return nil, info, err
	}
	// Take every index file depmod wrote.
	ents, err := os.ReadDir(dst)
	if err != nil {
		return nil, info, fmt.Errorf("kernel: %w", err)
	}
	for _, de := range ents {
		if !strings.HasPrefix(de.Name(), "modules.") || de.IsDir() {
			continue
		}
		src := filepath.Join(dst, de.Name())
		st, err := os.Stat(src)
		if err != nil {
			return nil, info, err
		}
		if err := mods.Add(&layer.Entry{Path: "lib/modules/" + ver + "/" + de.Name(), Type: tar.TypeReg, Mode: 0o644, Source: src, Size: st.Size()}); err != nil {
			return nil, info, err
		}
	}
	dropEmptyDirs(mods, map[string]bool{"lib/modules/" + ver + "/kernel": true}, nil)
	info.Modules = len(keep)
	info.ModulesSize = mods.ContentSize()

	ktar := filepath.Join(work, "kernel.tar")
	f, err := os.Create(ktar)
	if err != nil {
		return nil, info, fmt.Errorf("kernel: %w", err)
	}
	werr := mods.WriteTar(f, epoch)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, info, fmt.Errorf("kernel: write kernel.tar: %w", werr)
	}
	st, err := os.Stat(ktar)
	if err != nil {
		return nil, info, err
	}
	k, _ := pkgs.Get(vmlinuz)
	info.KernelSize = k.Size
	out := layer.NewTree()
	if err := out.Add(&layer.Entry{Path: "kernel", Type: tar.TypeReg, Mode: 0o644, Source: k.Source, Data: k.Data, Size: k.Size}); err != nil {
		return nil, info, err
	}
	if err := out.Add(&layer.Entry{Path: "kernel.tar", Type: tar.TypeReg, Mode: 0o644, Source: ktar, Size: st.Size()}); err != nil {
		return nil, info, err
	}
	return out, info, nil
}

func linkOrCopy(e *layer.Entry, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if e.Source != "" {
		if err := os.Link(e.Source, target); err == nil {
			return nil
		}
	}
	rc, err := e.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(target)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
