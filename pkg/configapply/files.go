package configapply

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// keepMode tells writeFile to leave the mode of an existing file as it is.
const keepMode fs.FileMode = 1 << 31

// writeFile writes data to name, making its directory (0755). The file is
// rewritten in place, never replaced, because services bind single files
// of /etc and /run into their containers (passwd, shadow, resolv.conf) and
// a bind keeps the old inode. perm is the mode of the file (of a new one
// only, with keepMode). It reports whether the content or mode changed.
func writeFile(name string, data []byte, perm fs.FileMode) (bool, error) {
	keep := perm&keepMode != 0
	perm &^= keepMode
	old, err := os.ReadFile(name)
	switch {
	case err == nil:
		st, err := os.Stat(name)
		if err != nil {
			return false, fmt.Errorf("stat %s: %w", name, err)
		}
		modeOK := keep || st.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) == perm
		if bytes.Equal(old, data) {
			if modeOK {
				return false, nil
			}
			if err := os.Chmod(name, perm); err != nil {
				return false, fmt.Errorf("chmod %s: %w", name, err)
			}
			return true, nil
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return false, fmt.Errorf("make directory of %s: %w", name, err)
		}
	default:
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm.Perm())
	if err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	if !keep {
		if err := f.Chmod(perm); err != nil {
			f.Close()
			return false, fmt.Errorf("chmod %s: %w", name, err)
		}
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", name, err)
	}
	return true, nil
}

// removeFile removes name, reporting whether it was there.
func removeFile(name string) (bool, error) {
	err := os.Remove(name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("remove %s: %w", name, err)
}

// readFile reads name; a missing file is empty.
func readFile(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return b, nil
}

// The lines ros writes into a file others edit too (authorized_keys) sit
// between these marks and are replaced whole.
const (
	beginMark = "# BEGIN ros cloud-config: lines to END are rewritten from cloud-config"
	endMark   = "# END ros cloud-config"
)

// replaceBlock returns text with its ros block replaced by lines (removed
// when lines is empty); a missing block is added at the end.
func replaceBlock(text []byte, lines []string) []byte {
	var out []string
	in := false
	placed := false
	block := func() {
		if len(lines) > 0 {
			out = append(out, beginMark)
			out = append(out, lines...)
			out = append(out, endMark)
		}
		placed = true
	}
	for _, l := range strings.SplitAfter(string(text), "\n") {
		if l == "" {
			continue
		}
		t := strings.TrimRight(l, "\n")
		switch {
		case t == beginMark:
			in = true
		case t == endMark && in:
			in = false
			if !placed {
				block()
			}
		case !in:
			out = append(out, t)
		}
	}
	if !placed {
		block()
	}
	if len(out) == 0 {
		return nil
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// mkdirOwned makes dir (and its parents, 0755) with mode and owner; an
// existing dir gets the mode and owner too.
func (a *applier) mkdirOwned(dir string, mode fs.FileMode, uid, gid int) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("make directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	if err := a.sys.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	return nil
}
