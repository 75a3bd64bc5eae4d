package configapply

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/GehirnInc/crypt/sha512_crypt"
	"github.com/google/go-cmp/cmp"
)

func TestUsers(t *testing.T) {
	tests := []struct {
		name       string
		yml        string
		wantPasswd []string // lines that must be in /etc/passwd
		wantGroup  []string
		wantShadow []string
		wantHomes  map[string][2]int // home -> owner
		warnings   []string
	}{
		{
			name:       "new user with groups",
			yml:        "users: [default, {name: bob, gecos: Bob B, groups: [docker, admins], shell: /bin/ash}]",
			wantPasswd: []string{"bob:x:1001:1001:Bob B:/home/bob:/bin/ash", "ros:x:1000:1000:ros:/home/ros:/bin/sh"},
			wantGroup:  []string{"bob:x:1001:", "docker:x:999:ros,bob", "admins:x:1002:bob"},
			wantShadow: []string{"bob:*:19000:0:99999:7:::", "ros:*:19000:0:99999:7:::"},
			wantHomes:  map[string][2]int{"/home/bob": {1001, 1001}},
		},
		{
			name:       "uid, primary group, homedir",
			yml:        "users: [{name: svc, uid: 2000, primary_group: docker, homedir: /var/lib/svc}]",
			wantPasswd: []string{"svc:x:2000:999::/var/lib/svc:/bin/sh"},
			wantGroup:  []string{"docker:x:999:ros"},
			wantHomes:  map[string][2]int{"/var/lib/svc": {2000, 999}},
		},
		{
			name:       "system user",
			yml:        "users: [{name: agent, system: true}]",
			wantPasswd: []string{"agent:x:999:998::/home/agent:/bin/sh"},
			wantGroup:  []string{"agent:x:998:"},
		},
		{
			name:       "hashed password unlocks",
			yml:        "users: [{name: ros, hashed_passwd: '$6$abc$xyz'}, {name: amy, passwd: '$6$q$w', lock_passwd: true}]",
			wantShadow: []string{"ros:$6$abc$xyz:19000:0:99999:7:::", "amy:*:19000:0:99999:7:::"},
			warnings:   []string{"users[1]: lock_passwd is true: the password given is not used"},
		},
		{
			name:     "sudo ignored",
			yml:      "users: [{name: ops, sudo: 'ALL=(ALL) NOPASSWD:ALL'}, {name: dev, sudo: false}]",
			warnings: []string{"users[0].sudo: ignored: ros has no sudo"},
		},
		{
			name:       "existing user changed",
			yml:        "users: [{name: ros, shell: /bin/ash, groups: wheel, uid: 5}]",
			wantPasswd: []string{"ros:x:1000:1000:ros:/home/ros:/bin/ash"},
			wantGroup:  []string{"wheel:x:10:ros"},
			wantShadow: []string{"ros:*:19000:0:99999:7:::"},
			warnings:   []string{"users[0].uid: ignored: user ros exists with uid 1000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sys := newFake(t)
			c := parse(t, tt.yml)
			r := Apply(context.Background(), sys, nil, c, Boot)
			noErrors(t, r)
			passwd := readT(t, f.root, "/etc/passwd")
			group := readT(t, f.root, "/etc/group")
			shadow := readT(t, f.root, "/etc/shadow")
			for _, want := range [][2]any{{passwd, tt.wantPasswd}, {group, tt.wantGroup}, {shadow, tt.wantShadow}} {
				for _, line := range want[1].([]string) {
					if !hasLine(want[0].(string), line) {
						t.Errorf("line %q missing from:\n%s", line, want[0])
					}
				}
			}
			for home, owner := range tt.wantHomes {
				if m := modeT(t, f.root, home); !m.IsDir() || m.Perm() != 0o750 {
					t.Errorf("%s: mode %v, want a 0750 directory", home, m)
				}
				if f.chowns[home] != owner {
					t.Errorf("%s owned by %v, want %v", home, f.chowns[home], owner)
				}
			}
			if !cmp.Equal(r.Warnings, tt.warnings) {
				t.Errorf("Warnings = %q, want %q", r.Warnings, tt.warnings)
			}
			// Applying again (the next boot on the same /etc, or a live
			// apply) repeats nothing.
			noErrors(t, Apply(context.Background(), sys, nil, c, Boot))
			for name, before := range map[string]string{"/etc/passwd": passwd, "/etc/group": group, "/etc/shadow": shadow} {
				if got := readT(t, f.root, name); got != before {
					t.Errorf("second Apply changed %s:\n%s\nwas:\n%s", name, got, before)
				}
			}
		})
	}
}

func hasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func TestUserKeepsHomeOwner(t *testing.T) {
	// /etc/passwd is made afresh at boot; a home kept on the state
	// partition keeps its uid even when users come in another order.
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a home owned by another uid")
	}
	f, sys := newFake(t)
	home := filepath.Join(f.root, "home/bob")
	if err := os.MkdirAll(home, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, 1005, 1005); err != nil {
		t.Fatal(err)
	}
	noErrors(t, Apply(context.Background(), sys, nil, parse(t, "users: [{name: amy}, {name: bob}]"), Boot))
	passwd := readT(t, f.root, "/etc/passwd")
	if !hasLine(passwd, "amy:x:1001:1001::/home/amy:/bin/sh") || !hasLine(passwd, "bob:x:1005:1005::/home/bob:/bin/sh") {
		t.Errorf("/etc/passwd =\n%s\nwant amy 1001 and bob 1005 (its home's owner)", passwd)
	}
}

func TestPlainTextPassword(t *testing.T) {
	f, sys := newFake(t)
	noErrors(t, Apply(context.Background(), sys, nil, parse(t, "users: [{name: ros, plain_text_passwd: s3cret}]"), Boot))
	var hash string
	for _, l := range strings.Split(readT(t, f.root, "/etc/shadow"), "\n") {
		if f := strings.Split(l, ":"); f[0] == "ros" {
			hash = f[1]
		}
	}
	if !strings.HasPrefix(hash, "$6$") {
		t.Fatalf("ros's shadow hash = %q, want SHA-512 crypt", hash)
	}
	if err := sha512_crypt.New().Verify(hash, []byte("s3cret")); err != nil {
		t.Errorf("hash %q does not verify s3cret: %v", hash, err)
	}
	if err := sha512_crypt.New().Verify(hash, []byte("other")); err == nil {
		t.Errorf("hash %q verifies a wrong password", hash)
	}
}

func TestSHA512CryptVector(t *testing.T) {
	// From the SHA-crypt specification (Drepper), test 1.
	got, err := sha512_crypt.New().Generate([]byte("Hello world!"), []byte("$6$saltstring"))
	want := "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
	if err != nil || got != want {
		t.Errorf("Generate(Hello world!, $6$saltstring) = %q, %v, want %q", got, err, want)
	}
}

func TestBadHash(t *testing.T) {
	_, sys := newFake(t)
	c := parse(t, "users: [{name: x, passwd: 'a:b'}, {name: y}]")
	r := Apply(context.Background(), sys, nil, c, Boot)
	if len(r.Errors) != 1 || !hasError(r, "users[0]", "not a crypt(3) hash") {
		t.Errorf("Errors = %v, want users[0] only", r.Errors)
	}
}

func TestAuthorizedKeys(t *testing.T) {
	f, sys := newFake(t)
	writeT(t, f.root, "/home/ros/.ssh/authorized_keys", "ssh-rsa AAAA by-hand\n")
	c := parse(t, "ssh_authorized_keys: ['"+keyA+"']\nusers: [{name: default, ssh_authorized_keys: ['"+keyB+"']}, {name: bob, ssh_authorized_keys: ['"+keyB+"']}]")
	r := Apply(context.Background(), sys, nil, c, Boot)
	noErrors(t, r)
	want := "ssh-rsa AAAA by-hand\n" + beginMark + "\n" + keyA + "\n" + keyB + "\n" + endMark + "\n"
	if got := readT(t, f.root, "/home/ros/.ssh/authorized_keys"); got != want {
		t.Errorf("ros authorized_keys =\n%s\nwant\n%s", got, want)
	}
	if got := readT(t, f.root, "/home/bob/.ssh/authorized_keys"); got != beginMark+"\n"+keyB+"\n"+endMark+"\n" {
		t.Errorf("bob authorized_keys =\n%s", got)
	}
	for file, want := range map[string]struct {
		mode  os.FileMode
		owner [2]int
	}{
		"/home/ros/.ssh":                 {0o700 | os.ModeDir, [2]int{1000, 1000}},
		"/home/ros/.ssh/authorized_keys": {0o600, [2]int{1000, 1000}},
		"/home/bob/.ssh/authorized_keys": {0o600, [2]int{1001, 1001}},
	} {
		if m := modeT(t, f.root, file); m != want.mode {
			t.Errorf("%s mode = %v, want %v", file, m, want.mode)
		}
		if f.chowns[file] != want.owner {
			t.Errorf("%s owner = %v, want %v", file, f.chowns[file], want.owner)
		}
	}
	if !cmp.Equal(r.Applied, []string{"ssh_authorized_keys", "users"}) {
		t.Errorf("Applied = %q", r.Applied)
	}
	// Live: keys removed from the config leave the file; those added by
	// hand stay.
	r = Apply(context.Background(), sys, c, parse(t, "users: [bob]"), Live)
	noErrors(t, r)
	if got := readT(t, f.root, "/home/ros/.ssh/authorized_keys"); got != "ssh-rsa AAAA by-hand\n" {
		t.Errorf("keys removed: ros authorized_keys = %q", got)
	}
	if got := readT(t, f.root, "/home/bob/.ssh/authorized_keys"); got != "" {
		t.Errorf("keys removed: bob authorized_keys = %q, want empty", got)
	}
}

func TestAuthorizedKeysUnknownUser(t *testing.T) {
	f, sys := newFake(t)
	writeT(t, f.root, "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n") // no ros
	r := Apply(context.Background(), sys, nil, parse(t, "ssh_authorized_keys: ['"+keyA+"']"), Boot)
	if !hasError(r, "ssh_authorized_keys", `no user "ros"`) {
		t.Errorf("Errors = %v, want ssh_authorized_keys: no user ros", r.Errors)
	}
}

func TestUsersRemovedLive(t *testing.T) {
	_, sys := newFake(t)
	r := Apply(context.Background(), sys, parse(t, "users: [{name: bob}, default]"), parse(t, "users: [default]"), Live)
	noErrors(t, r)
	if !cmp.Equal(r.NeedsReboot, []string{"users"}) {
		t.Errorf("NeedsReboot = %q, want [users]", r.NeedsReboot)
	}
}
