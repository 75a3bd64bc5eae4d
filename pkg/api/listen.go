package api

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/moby/sys/user"
)

// ListenConfig says where and to whom the API socket is offered.
type ListenConfig struct {
	// Group may use the socket besides its owner; "" leaves the socket to
	// its owner alone (mode 0600).
	Group string
	// GroupFile is where Group is looked up; /etc/group if empty.
	GroupFile string
}

// Listen returns the API listener: the socket passed by the service manager
// when the process is socket-activated (LISTEN_FDS, go-systemd's activation
// protocol), else a new Unix socket at path with mode 0660 and group group
// (owner: the calling process, root on the machine). A stale socket left by
// a previous rosd is removed; a live one is an error.
func Listen(path, group string) (net.Listener, error) {
	return ListenConfig{Group: group}.Listen(path)
}

// Listen is the package-level Listen with lc's settings.
func (lc ListenConfig) Listen(path string) (net.Listener, error) {
	if os.Getenv("LISTEN_FDS") != "" {
		l, err := activated(path)
		if err != nil || l != nil {
			return l, err
		}
	}
	gid := -1
	mode := fs.FileMode(0o600)
	if lc.Group != "" {
		file := cmp.Or(lc.GroupFile, "/etc/group")
		gs, err := user.ParseGroupFileFilter(file, func(g user.Group) bool { return g.Name == lc.Group })
		if err != nil {
			return nil, fmt.Errorf("listen %s: look up group %s: %w", path, lc.Group, err)
		}
		if len(gs) == 0 {
			return nil, fmt.Errorf("listen %s: group %s not in %s", path, lc.Group, file)
		}
		gid, mode = gs[0].Gid, 0o660
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	if gid >= 0 {
		if err := os.Lchown(path, -1, gid); err != nil {
			l.Close()
			return nil, fmt.Errorf("listen %s: chown group %s: %w", path, lc.Group, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	return l, nil
}

// activated returns the socket-activated listener for path: the one bound
// to path, else the first Unix one. It returns nil, nil when the inherited
// descriptors are not for this process.
func activated(path string) (net.Listener, error) {
	ls, err := activation.Listeners()
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	var first net.Listener
	for _, l := range ls {
		if l == nil || l.Addr().Network() != "unix" {
			continue
		}
		if l.Addr().String() == path {
			return l, nil
		}
		if first == nil {
			first = l
		}
	}
	if first == nil && len(ls) > 0 {
		return nil, fmt.Errorf("socket activation: %d descriptors, none a Unix stream socket", len(ls))
	}
	return first, nil
}

// removeStale removes a socket at path that nobody answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("listen %s: exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("listen %s: %w: another process is serving it", path, ErrConflict)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("listen %s: remove stale socket: %w", path, err)
	}
	return nil
}
