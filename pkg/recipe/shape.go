package recipe

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strings"

	"github.com/ros-os/ros/pkg/layer"
)

// extractLeftovers are what mmdebstrap itself puts in the tree (devices,
// apt and dpkg state, the host's hostname and resolv.conf): never wanted,
// never staged.
var extractLeftovers = []string{
	"/dev/**", "/tmp", "/etc/apt/**", "/etc/dpkg/**", "/etc/fstab", "/etc/hostname", "/etc/resolv.conf",
	"/var/cache/apt/**", "/var/lib/apt/**", "/var/lib/dpkg/**", "/var/log/apt/**",
	"/var/log/**", "/var/cache/**",
}

// defaultPrune is applied to every image: documentation, man pages,
// locales, shell completions, init-system and packaging leftovers that a
// container (or the ros root) never uses.
var defaultPrune = []string{
	"/usr/share/doc/**", "/usr/share/doc-base/**", "/usr/share/man/**", "/usr/share/info/**",
	"/usr/share/locale/**", "/usr/share/i18n/**", "/usr/share/lintian/**", "/usr/share/linda/**",
	"/usr/share/bug/**", "/usr/share/menu/**", "/usr/share/bash-completion/**",
	"/usr/share/zsh/**", "/usr/share/fish/**", "/usr/share/initramfs-tools/**",
	"/usr/share/pam-configs/**", "/usr/share/apport/**", "/usr/share/gdb/**",
	"/usr/share/polkit-1/**", "/usr/share/debconf/**", "/usr/share/common-licenses/**",
	"/etc/init.d/**", "/etc/rc?.d/**", "/etc/cron.*/**", "/etc/logrotate.d/**",
	"/etc/systemd/**", "/lib/systemd/**", "/usr/lib/systemd/**",
	"/usr/lib/tmpfiles.d/**", "/usr/lib/sysusers.d/**", "/lib/udev/**", "/usr/lib/udev/**",
	"/etc/apparmor.d/**", "/etc/ufw/**", "/usr/share/perl5/Debconf/**",
	"**/__pycache__",
}

func matchAny(patterns []string, p string) bool {
	for _, pat := range patterns {
		if layer.Match(pat, p) {
			return true
		}
	}
	return false
}

// under reports whether p is dir or below it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// libDirs are searched for DT_NEEDED libraries after DT_RUNPATH/DT_RPATH,
// as Debian's ld.so does without an ld.so.cache.
var libDirs = []string{
	"lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib", "lib64", "usr/lib64",
}

// applyKeep removes every entry of t that no keep pattern selects, except
// protected paths, parents of kept paths, symlink chains and targets of
// kept paths, and the ELF interpreters and shared libraries (recursively)
// of kept programs and libraries.
func applyKeep(t *layer.Tree, keep []string, protected map[string]bool, log *slog.Logger) error {
	if len(keep) == 0 {
		return nil
	}
	kept := map[string]bool{}
	var queue []string
	mark := func(p string) error {
		final, links, err := t.ResolveChain(p)
		if err != nil {
			return err
		}
		for _, l := range links {
			kept[l] = true
		}
		if !kept[final] {
			kept[final] = true
			queue = append(queue, final)
		}
		return nil
	}
	var keptDirs []string
	for _, p := range t.Paths() {
		if !matchAny(keep, p) {
			continue
		}
		e, _ := t.Get(p)
		kept[p] = true
		if e.Type == tar.TypeDir {
			keptDirs = append(keptDirs, p)
		}
		if e.Type == tar.TypeSymlink {
			if err := mark(p); err != nil {
				log.Warn("keep: dangling symlink", "path", "/"+p, "err", err)
			}
			continue
		}
		queue = append(queue, p)
	}
	for _, p := range t.Paths() {
		for _, d := range keptDirs {
			if under(p, d) && !kept[p] {
				kept[p] = true
				queue = append(queue, p)
			}
		}
	}
	for p := range protected {
		if _, ok := t.Get(p); ok && !kept[p] {
			kept[p] = true
			queue = append(queue, p)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		e, ok := t.Get(p)
		if !ok || e.Type != tar.TypeReg {
			continue
		}
		needs, err := programNeeds(t, e)
		if err != nil {
			return err
		}
		for _, n := range needs {
			if err := mark(n); err != nil {
				return fmt.Errorf("keep: /%s needs %s: not in the image: %w", p, n, err)
			}
		}
	}
	for _, p := range t.Paths() {
		if kept[p] {
			for d := path.Dir(p); d != "."; d = path.Dir(d) {
				kept[d] = true
			}
		}
	}
	for _, p := range t.Paths() {
		if !kept[p] {
			t.Remove(p)
		}
	}
	return nil
}

// programNeeds returns the absolute paths a kept file needs at run time:
// for ELF files the interpreter and DT_NEEDED libraries (resolved in the
// tree), for scripts the #! interpreter.
func programNeeds(t *layer.Tree, e *layer.Entry) ([]string, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	head := make([]byte, 256)
	n, _ := io.ReadFull(rc, head)
	rc.Close()
	head = head[:n]
	if bytes.HasPrefix(head, []byte("#!")) {
		line, _, _ := bytes.Cut(head[2:], []byte("\n"))
		fields := strings.Fields(string(line))
		if len(fields) > 0 && strings.HasPrefix(fields[0], "/") {
			if _, err := t.Resolve(fields[0]); err == nil {
				return []string{fields[0]}, nil
			}
		}
		return nil, nil
	}
	if !bytes.HasPrefix(head, []byte(elf.ELFMAG)) {
		return nil, nil
	}
	data, err := e.ReadAll()
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, nil // not a usable ELF file (e.g. firmware); keep as is
	}
	defer f.Close()
	var out []string
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			b, err := io.ReadAll(prog.Open())
			if err == nil {
				out = append(out, strings.TrimRight(string(b), "\x00"))
			}
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return out, nil
	}
	var search []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		rp, _ := f.DynString(tag)
		for _, s := range rp {
			for _, d := range strings.Split(s, ":") {
				d = strings.ReplaceAll(d, "$ORIGIN", "/"+path.Dir(e.Path))
				search = append(search, layer.Clean(d))
			}
		}
	}
	search = append(search, libDirs...)
	for _, lib := range libs {
		found := ""
		for _, d := range search {
			cand := d + "/" + lib
			if final, err := t.Resolve(cand); err == nil {
				if fe, _ := t.Get(final); fe != nil && fe.Type == tar.TypeReg {
					found = cand
					break
				}
			}
		}
		if found == "" {
			return nil, fmt.Errorf("keep: /%s needs %s: not found in %s", e.Path, lib, strings.Join(search, ", "))
		}
		out = append(out, "/"+found)
	}
	return out, nil
}

// applyPrune removes entries matching patterns, except protected paths
// and the directories holding them.
func applyPrune(t *layer.Tree, patterns []string, protected map[string]bool) {
	for _, p := range t.Paths() {
		if _, ok := t.Get(p); !ok || !matchAny(patterns, p) {
			continue
		}
		e, _ := t.Get(p)
		if protected[p] {
			continue
		}
		if e.Type == tar.TypeDir && holdsProtected(p, protected) {
			for _, c := range t.Paths() {
				if strings.HasPrefix(c, p+"/") && !protected[c] && !holdsProtected(c, protected) {
					t.Remove(c)
				}
			}
			continue
		}
		t.Remove(p)
	}
}

func holdsProtected(dir string, protected map[string]bool) bool {
	for p := range protected {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// dropEmptyDirs removes directories left empty, unless protected or
// selected by a keep pattern.
func dropEmptyDirs(t *layer.Tree, protected map[string]bool, keep []string) {
	paths := t.Paths()
	children := map[string]int{}
	for _, p := range paths {
		if d := path.Dir(p); d != "." {
			children[d]++
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(paths))) // children first
	for _, p := range paths {
		e, ok := t.Get(p)
		if !ok || e.Type != tar.TypeDir || children[p] > 0 || protected[p] || matchAny(keep, p) {
			continue
		}
		t.Remove(p)
		if d := path.Dir(p); d != "." {
			children[d]--
		}
	}
}
