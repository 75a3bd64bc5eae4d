package configapply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/GehirnInc/crypt/sha512_crypt"

	"github.com/ros-os/ros/pkg/cloudconfig"
)

// The default user: "default" in users, and the owner of the top-level
// ssh_authorized_keys. The image makes it (uid 1000, home /home/ros).
const (
	DefaultUser  = cloudconfig.DefaultUser
	defaultShell = "/bin/sh"
	homeMode     = 0o750
)

// shadowDefaults are the aging fields of a new /etc/shadow entry, as the
// image's own entries have them: no expiry.
var shadowDefaults = []string{"19000", "0", "99999", "7", "", "", ""}

func userName(u cloudconfig.User) string {
	if u.Name == "default" {
		return DefaultUser
	}
	return u.Name
}

// applyUsers adds the users of the config to /etc/passwd, /etc/group and
// /etc/shadow, or updates them. /etc is made afresh at each boot, so this
// runs at each boot; entries already there are changed, not repeated.
func applyUsers(ctx context.Context, a *applier) {
	ac, err := a.loadAccounts()
	if err != nil {
		a.fail("users", err)
		return
	}
	for i, u := range a.next.Users {
		key := fmt.Sprintf("users[%d]", i)
		if err := a.ensureUser(ac, key, u); err != nil {
			a.fail(key, err)
		}
	}
	if err := ac.save(); err != nil {
		a.fail("users", err)
	}
	if a.stage == Live {
		for _, u := range a.prev.Users {
			if n := userName(u); n != DefaultUser && !slices.ContainsFunc(a.next.Users, func(v cloudconfig.User) bool { return userName(v) == n }) {
				a.needsReboot("users") // /etc/passwd is made afresh at boot
			}
		}
	}
}

func (a *applier) ensureUser(ac *accounts, key string, u cloudconfig.User) error {
	name := userName(u)
	if len(u.Sudo) > 0 {
		a.warnf("%s.sudo: ignored: ros has no sudo", key)
	}
	e := ac.passwd.get(name)
	isNew := e == nil
	if isNew {
		var err error
		if e, err = a.newUser(ac, name, u); err != nil {
			return err
		}
	} else {
		if u.UID != nil && strconv.Itoa(*u.UID) != e[2] {
			a.warnf("%s.uid: ignored: user %s exists with uid %s", key, name, e[2])
		}
		if u.Gecos != "" {
			e[4] = u.Gecos
		}
		if u.Homedir != "" {
			e[5] = u.Homedir
		}
		if u.Shell != "" {
			e[6] = u.Shell
		}
		if u.PrimaryGroup != "" {
			gid, err := a.ensureGroup(ac, u.PrimaryGroup, u, -1)
			if err != nil {
				return fmt.Errorf("primary_group: %w", err)
			}
			e[3] = strconv.Itoa(gid)
		}
	}
	ac.passwd.put(e)
	for _, g := range u.Groups {
		if _, err := a.ensureGroup(ac, g, u, -1); err != nil {
			return fmt.Errorf("groups: %w", err)
		}
		ac.addMember(g, name)
	}
	if err := a.setPassword(ac, key, name, u, isNew); err != nil {
		return err
	}
	if isNew && (u.System == nil || !*u.System) {
		uid, _ := strconv.Atoi(e[2])
		gid, _ := strconv.Atoi(e[3])
		if err := a.makeHome(a.sys.path(e[5]), uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// newUser makes the passwd entry of a user not in /etc/passwd, and its
// primary group.
func (a *applier) newUser(ac *accounts, name string, u cloudconfig.User) ([]string, error) {
	system := u.System != nil && *u.System
	home := u.Homedir
	if home == "" {
		home = "/home/" + name
	}
	used := ac.passwd.ids(2)
	uid := -1
	switch {
	case u.UID != nil:
		if other := ac.passwd.byID(2, *u.UID); other != "" {
			return nil, fmt.Errorf("uid %d is taken by %s", *u.UID, other)
		}
		uid = *u.UID
	default:
		// A home kept from an earlier boot keeps its owner: /etc/passwd is
		// made afresh at each boot, the home on the state partition is not.
		if st, err := os.Stat(a.sys.path(home)); err == nil && !system {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid > 0 && !used[int(sys.Uid)] {
				uid = int(sys.Uid)
			}
		}
		if uid < 0 {
			var err error
			if system {
				uid, err = freeID(used, firstSystemUID, lastSystemUID, true)
			} else {
				uid, err = freeID(used, firstUID, lastUID, false)
			}
			if err != nil {
				return nil, fmt.Errorf("uid: %w", err)
			}
		}
	}
	group := u.PrimaryGroup
	if group == "" {
		group = name
	}
	gid, err := a.ensureGroup(ac, group, u, uid)
	if err != nil {
		return nil, fmt.Errorf("primary group: %w", err)
	}
	shell := u.Shell
	if shell == "" {
		shell = defaultShell
	}
	return []string{name, "x", strconv.Itoa(uid), strconv.Itoa(gid), u.Gecos, home, shell}, nil
}

// ensureGroup returns the gid of group, adding the group if it is missing
// (with gid want if that is free).
func (a *applier) ensureGroup(ac *accounts, group string, u cloudconfig.User, want int) (int, error) {
	if e := ac.group.get(group); e != nil {
		gid, err := strconv.Atoi(e[2])
		if err != nil {
			return 0, fmt.Errorf("group %s has gid %q in /etc/group", group, e[2])
		}
		return gid, nil
	}
	used := ac.group.ids(2)
	gid := want
	if gid < 0 || used[gid] {
		var err error
		if u.System != nil && *u.System {
			gid, err = freeID(used, firstSystemUID, lastSystemUID, true)
		} else {
			gid, err = freeID(used, firstUID, lastUID, false)
		}
		if err != nil {
			return 0, fmt.Errorf("gid for %s: %w", group, err)
		}
	}
	ac.group.put([]string{group, "x", strconv.Itoa(gid), ""})
	return gid, nil
}

// setPassword writes the /etc/shadow entry. A password given (a hash in
// hashed_passwd or passwd, or plain_text_passwd hashed here with SHA-512
// crypt) allows password login unless lock_passwd is true; without one,
// or when locked, the entry is "*": no password login, SSH keys still
// work. (cloud-init's "!" would also refuse SSH keys here: sshd runs
// without PAM, and OpenSSH then treats "!" as a locked account.)
func (a *applier) setPassword(ac *accounts, key, name string, u cloudconfig.User, isNew bool) error {
	hash, err := passwordHash(key, u)
	if err != nil {
		return err
	}
	prevHad := slices.ContainsFunc(a.prev.Users, func(p cloudconfig.User) bool {
		return userName(p) == name && (p.HashedPasswd != "" || p.Passwd != "" || p.PlainTextPasswd != "")
	})
	if hash == "" && u.LockPasswd == nil && !isNew && !prevHad {
		return nil // leave the image's entry alone
	}
	lock := hash == ""
	if u.LockPasswd != nil {
		lock = *u.LockPasswd
	}
	field := hash
	if lock {
		if hash != "" {
			a.warnf("%s: lock_passwd is true: the password given is not used", key)
		}
		field = "*"
	}
	e := ac.shadow.get(name)
	if e == nil {
		e = append([]string{name, field}, shadowDefaults...)
	}
	e[1] = field
	ac.shadow.put(e)
	return nil
}

func passwordHash(key string, u cloudconfig.User) (string, error) {
	for _, h := range []struct{ field, v string }{{"hashed_passwd", u.HashedPasswd}, {"passwd", u.Passwd}} {
		if h.v == "" {
			continue
		}
		if strings.ContainsAny(h.v, ":\n") {
			return "", fmt.Errorf("%s: not a crypt(3) hash (it holds ':' or a newline)", h.field)
		}
		return h.v, nil
	}
	if u.PlainTextPasswd == "" {
		return "", nil
	}
	hash, err := sha512_crypt.New().Generate([]byte(u.PlainTextPasswd), nil)
	if err != nil {
		return "", fmt.Errorf("plain_text_passwd: hash: %w", err)
	}
	return hash, nil
}

// makeHome makes a home directory if it is missing.
func (a *applier) makeHome(dir string, uid, gid int) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("home: %w", err)
	}
	if err := os.MkdirAll(path.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("home: %w", err)
	}
	return a.mkdirOwned(dir, homeMode, uid, gid)
}

// applyAuthorizedKeys writes each user's keys into ~/.ssh/authorized_keys,
// between marks so that keys added by hand stay. The default user gets the
// top-level ssh_authorized_keys and those of users "default" and "ros".
func applyAuthorizedKeys(ctx context.Context, a *applier) {
	next, keyOf := authorizedKeys(a.next)
	prev, _ := authorizedKeys(a.prev)
	ac, err := a.loadAccounts()
	if err != nil {
		a.fail("ssh_authorized_keys", err)
		return
	}
	names := make([]string, 0, len(next)+len(prev))
	for n := range next {
		names = append(names, n)
	}
	for n := range prev {
		if _, ok := next[n]; !ok && (n == DefaultUser || slices.ContainsFunc(a.next.Users, func(u cloudconfig.User) bool { return userName(u) == n })) {
			names = append(names, n) // keys removed: empty the block
		}
	}
	slices.Sort(names)
	for _, n := range names {
		key := keyOf[n]
		if key == "" {
			key = "ssh_authorized_keys"
		}
		if err := a.writeAuthorizedKeys(ac, n, next[n]); err != nil {
			a.fail(key, err)
		}
	}
}

// authorizedKeys returns each user's keys and the key naming them in
// errors.
func authorizedKeys(c *cloudconfig.Config) (map[string][]string, map[string]string) {
	keys := map[string][]string{}
	where := map[string]string{}
	add := func(user string, ks []string) {
		for _, k := range ks {
			if !slices.Contains(keys[user], k) {
				keys[user] = append(keys[user], k)
			}
		}
	}
	add(DefaultUser, c.SSHAuthorizedKeys)
	if len(c.SSHAuthorizedKeys) > 0 {
		where[DefaultUser] = "ssh_authorized_keys"
	}
	for i, u := range c.Users {
		if len(u.SSHAuthorizedKeys) == 0 {
			continue
		}
		n := userName(u)
		add(n, u.SSHAuthorizedKeys)
		if where[n] == "" {
			where[n] = fmt.Sprintf("users[%d].ssh_authorized_keys", i)
		}
	}
	return keys, where
}

func (a *applier) writeAuthorizedKeys(ac *accounts, user string, keys []string) error {
	e := ac.passwd.get(user)
	if e == nil {
		return fmt.Errorf("no user %q in /etc/passwd", user)
	}
	uid, err1 := strconv.Atoi(e[2])
	gid, err2 := strconv.Atoi(e[3])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("user %s in /etc/passwd: %w", user, err)
	}
	home := a.sys.path(e[5])
	if err := a.makeHome(home, uid, gid); err != nil {
		return err
	}
	sshDir := path.Join(home, ".ssh")
	if err := a.mkdirOwned(sshDir, 0o700, uid, gid); err != nil {
		return err
	}
	file := path.Join(sshDir, "authorized_keys")
	old, err := readFile(file)
	if err != nil {
		return err
	}
	var lines []string
	for _, k := range keys {
		lines = append(lines, strings.TrimSpace(k))
	}
	if _, err := writeFile(file, replaceBlock(old, lines), 0o600); err != nil {
		return err
	}
	if err := a.sys.Chown(file, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", file, err)
	}
	return nil
}
