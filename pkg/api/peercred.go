package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// PeerCred is the identity of the process at the other end of a Unix socket
// connection, as the kernel reports it (SO_PEERCRED).
type PeerCred struct {
	PID int32
	UID uint32
	GID uint32
}

type peerKey struct{}

// ReadPeerCred returns the SO_PEERCRED credentials of a Unix socket
// connection.
func ReadPeerCred(c net.Conn) (PeerCred, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return PeerCred{}, fmt.Errorf("peer credentials of %T: not a socket", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return PeerCred{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return PeerCred{}, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return PeerCred{}, fmt.Errorf("peer credentials: getsockopt SO_PEERCRED: %w", credErr)
	}
	return PeerCred{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}, nil
}

// ConnContext is an http.Server ConnContext hook storing the peer
// credentials of each Unix socket connection in its context, where the
// handler checks them. A connection whose credentials cannot be read
// carries none and is refused by the handler.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	cred, err := ReadPeerCred(c)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, cred)
}

// PeerCredFromContext returns the credentials ConnContext stored.
func PeerCredFromContext(ctx context.Context) (PeerCred, bool) {
	cred, ok := ctx.Value(peerKey{}).(PeerCred)
	return cred, ok
}

// NewServer returns an http.Server serving h with ConnContext set, as the
// handler needs. Serve it on the listener from Listen.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ConnContext: ConnContext, ReadHeaderTimeout: 10 * time.Second}
}

// Access decides which peers may use the API: root, and any process whose
// uid or gid belongs to Group according to the group and passwd files.
type Access struct {
	Group      string // DefaultGroup if empty
	GroupFile  string // /etc/group if empty
	PasswdFile string // /etc/passwd if empty
}

// Check returns nil if the peer may use the API, else an error wrapping
// ErrForbidden that names the group.
func (a Access) Check(c PeerCred) error {
	if c.UID == 0 {
		return nil
	}
	group := cmp.Or(a.Group, DefaultGroup)
	deny := fmt.Errorf("%w: uid %d is neither root nor in group %s", ErrForbidden, c.UID, group)
	groups, err := user.ParseGroupFileFilter(cmp.Or(a.GroupFile, "/etc/group"), func(g user.Group) bool { return g.Name == group })
	if err != nil || len(groups) == 0 {
		return deny
	}
	g := groups[0]
	if int64(c.GID) == int64(g.Gid) {
		return nil
	}
	users, err := user.ParsePasswdFileFilter(cmp.Or(a.PasswdFile, "/etc/passwd"), func(u user.User) bool { return int64(u.Uid) == int64(c.UID) })
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return deny
	}
	for _, u := range users {
		if int64(u.Gid) == int64(g.Gid) || slices.Contains(g.List, u.Name) {
			return nil
		}
	}
	return deny
}
