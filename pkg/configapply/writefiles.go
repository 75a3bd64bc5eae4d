package configapply

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// applyWriteFiles writes the write_files entries with Defer == deferred.
// At boot every entry is written (/etc is made afresh); at Live only the
// entries that are new or changed. An append entry is not appended again
// when the file already holds its content, so rebooting does not repeat
// it.
func applyWriteFiles(a *applier, deferred bool) {
	var ac *accounts
	for i, f := range a.next.WriteFiles {
		if f.Defer != deferred {
			continue
		}
		if a.stage == Live && slices.ContainsFunc(a.prev.WriteFiles, func(p cloudconfig.WriteFile) bool { return p == f }) {
			continue
		}
		key := fmt.Sprintf("write_files[%d]", i)
		if f.Owner != "" && ac == nil {
			var err error
			if ac, err = a.loadAccounts(); err != nil {
				a.fail(key, err)
				continue
			}
		}
		if err := a.writeOne(ac, f); err != nil {
			a.fail(key, err)
		}
	}
}

func (a *applier) writeOne(ac *accounts, f cloudconfig.WriteFile) error {
	data, err := f.Decode()
	if err != nil {
		return fmt.Errorf("content: %w", err)
	}
	mode, err := f.Mode()
	if err != nil {
		return err
	}
	uid, gid := -1, -1
	if f.Owner != "" {
		if uid, gid, err = ac.lookupOwner(f.Owner); err != nil {
			return fmt.Errorf("owner: %w", err)
		}
	}
	name := a.sys.path(f.Path)
	if f.Append {
		if err := appendFile(name, data, mode); err != nil {
			return err
		}
		if f.Permissions != "" {
			if err := os.Chmod(name, mode); err != nil {
				return fmt.Errorf("chmod %s: %w", name, err)
			}
		}
	} else if _, err := writeFile(name, data, mode); err != nil {
		return err
	}
	if uid >= 0 {
		if err := a.sys.Chown(name, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", name, err)
		}
	}
	return nil
}

// appendFile appends data to name unless name already holds it; a new
// file gets mode.
func appendFile(name string, data []byte, mode os.FileMode) error {
	old, err := readFile(name)
	if err != nil {
		return err
	}
	if len(data) > 0 && bytes.Contains(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("make directory of %s: %w", name, err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, mode.Perm())
	if err != nil {
		return fmt.Errorf("append to %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("append to %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append to %s: %w", name, err)
	}
	return nil
}
