package api

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAccessCheck(t *testing.T) {
	dir := t.TempDir()
	group := writeFile(t, dir, "group", "root:x:0:\nros:x:990:alice,bob\nwheel:x:10:carol\nusers:x:100:\n")
	passwd := writeFile(t, dir, "passwd", strings.Join([]string{
		"root:x:0:0:root:/root:/bin/sh",
		"alice:x:1000:100::/home/alice:/bin/sh", // member by name
		"dave:x:1001:990::/home/dave:/bin/sh",   // primary group ros
		"carol:x:1002:100::/home/carol:/bin/sh", // in wheel only
		"eve:x:1003:100::/home/eve:/bin/sh",     // in nothing
	}, "\n")+"\n")
	tests := []struct {
		name   string
		access Access
		cred   PeerCred
		allow  bool
	}{
		{"root", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 0, GID: 0}, true},
		{"root without group file", Access{GroupFile: filepath.Join(dir, "nope"), PasswdFile: passwd}, PeerCred{UID: 0}, true},
		{"member by name", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1000, GID: 100}, true},
		{"primary group in passwd", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1001, GID: 100}, true},
		{"process gid is ros", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1003, GID: 990}, true},
		{"uid unknown but gid ros", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 4242, GID: 990}, true},
		{"not a member", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1003, GID: 100}, false},
		{"member of another group", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1002, GID: 100}, false},
		{"uid unknown", Access{GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 4242, GID: 4242}, false},
		{"other group name", Access{Group: "wheel", GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1002, GID: 100}, true},
		{"other group name refuses ros member", Access{Group: "wheel", GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1000, GID: 100}, false},
		{"group missing", Access{Group: "nosuch", GroupFile: group, PasswdFile: passwd}, PeerCred{UID: 1000, GID: 990}, false},
		{"group file missing", Access{GroupFile: filepath.Join(dir, "nope"), PasswdFile: passwd}, PeerCred{UID: 1000, GID: 990}, false},
		{"passwd missing: gid still counts", Access{GroupFile: group, PasswdFile: filepath.Join(dir, "nope")}, PeerCred{UID: 1000, GID: 990}, true},
		{"passwd missing: name unknown", Access{GroupFile: group, PasswdFile: filepath.Join(dir, "nope")}, PeerCred{UID: 1000, GID: 100}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.access.Check(tt.cred)
			if (err == nil) != tt.allow {
				t.Fatalf("Check(%+v) = %v, want allowed %t", tt.cred, err, tt.allow)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("Check(%+v) = %v, want ErrForbidden", tt.cred, err)
			}
			group := tt.access.Group
			if group == "" {
				group = DefaultGroup
			}
			if !strings.Contains(err.Error(), "group "+group) {
				t.Errorf("Check(%+v) = %q, want it to name group %s", tt.cred, err, group)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{ErrNotFound, 404},
		{ErrInvalid, 400},
		{ErrConflict, 409},
		{ErrForbidden, 403},
		{errors.New("boom"), 500},
		{&Error{Status: 404, Message: "x"}, 404},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
