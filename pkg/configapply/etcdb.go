package configapply

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// table is a colon-separated account file: /etc/passwd, /etc/group or
// /etc/shadow. Lines that are not entries (comments) are kept as they are.
type table struct {
	path    string
	nfields int
	lines   [][]string // an entry's fields, or one raw line
	changed bool
}

func loadTable(path string, nfields int) (*table, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	t := &table{path: path, nfields: nfields}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "#") || !strings.Contains(l, ":") {
			t.lines = append(t.lines, []string{l})
			continue
		}
		f := strings.Split(l, ":")
		for len(f) < nfields {
			f = append(f, "")
		}
		t.lines = append(t.lines, f)
	}
	return t, nil
}

// get returns the entry named name (a copy), or nil.
func (t *table) get(name string) []string {
	if i := t.index(name); i >= 0 {
		return slices.Clone(t.lines[i])
	}
	return nil
}

func (t *table) index(name string) int {
	for i, f := range t.lines {
		if len(f) > 1 && f[0] == name {
			return i
		}
	}
	return -1
}

// put replaces the entry of the same name, or appends it.
func (t *table) put(fields []string) {
	if i := t.index(fields[0]); i >= 0 {
		if !slices.Equal(t.lines[i], fields) {
			t.lines[i] = fields
			t.changed = true
		}
		return
	}
	t.lines = append(t.lines, fields)
	t.changed = true
}

// ids returns the numbers in field i of every entry.
func (t *table) ids(i int) map[int]bool {
	out := map[int]bool{}
	for _, f := range t.lines {
		if len(f) > i {
			if n, err := strconv.Atoi(f[i]); err == nil {
				out[n] = true
			}
		}
	}
	return out
}

// byID returns the name of the first entry with number id in field i.
func (t *table) byID(i, id int) string {
	s := strconv.Itoa(id)
	for _, f := range t.lines {
		if len(f) > i && f[i] == s {
			return f[0]
		}
	}
	return ""
}

// save writes the table back in place if it changed, keeping the mode.
func (t *table) save() error {
	if !t.changed {
		return nil
	}
	var b strings.Builder
	for _, f := range t.lines {
		b.WriteString(strings.Join(f, ":"))
		b.WriteByte('\n')
	}
	if _, err := writeFile(t.path, []byte(b.String()), 0o644|keepMode); err != nil {
		return err
	}
	t.changed = false
	return nil
}

// accounts are the three account files of the machine.
type accounts struct {
	passwd, group, shadow *table
}

func (a *applier) loadAccounts() (*accounts, error) {
	p, err := loadTable(a.sys.path("/etc/passwd"), 7)
	if err != nil {
		return nil, err
	}
	g, err := loadTable(a.sys.path("/etc/group"), 4)
	if err != nil {
		return nil, err
	}
	s, err := loadTable(a.sys.path("/etc/shadow"), 9)
	if err != nil {
		return nil, err
	}
	return &accounts{passwd: p, group: g, shadow: s}, nil
}

func (ac *accounts) save() error {
	for _, t := range []*table{ac.passwd, ac.group, ac.shadow} {
		if err := t.save(); err != nil {
			return err
		}
	}
	return nil
}

// The ids handed out to new users and groups.
const (
	firstUID       = 1000
	lastUID        = 59999
	firstSystemUID = 100
	lastSystemUID  = 999
)

// freeID returns the first id in [lo, hi] (from hi down when down) not in
// used.
func freeID(used map[int]bool, lo, hi int, down bool) (int, error) {
	for i := range hi - lo + 1 {
		id := lo + i
		if down {
			id = hi - i
		}
		if !used[id] {
			return id, nil
		}
	}
	return 0, fmt.Errorf("no free id from %d to %d", lo, hi)
}

// lookupOwner reads "user", "user:group" or numbers into ids; a user alone
// gives its primary group.
func (ac *accounts) lookupOwner(owner string) (uid, gid int, err error) {
	u, g, hasGroup := strings.Cut(owner, ":")
	gid = -1
	if n, err := strconv.Atoi(u); err == nil {
		uid = n
	} else if e := ac.passwd.get(u); e != nil {
		uid, _ = strconv.Atoi(e[2])
		gid, _ = strconv.Atoi(e[3])
	} else {
		return 0, 0, fmt.Errorf("no user %q in /etc/passwd", u)
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil {
			gid = n
		} else if e := ac.group.get(g); e != nil {
			gid, _ = strconv.Atoi(e[2])
		} else {
			return 0, 0, fmt.Errorf("no group %q in /etc/group", g)
		}
	}
	if gid < 0 {
		gid = uid // a number alone: that user's primary group if known, else the same number
		if e := ac.passwd.byID(2, uid); e != "" {
			gid, _ = strconv.Atoi(ac.passwd.get(e)[3])
		}
	}
	return uid, gid, nil
}

// addMember adds user to the member list of group.
func (ac *accounts) addMember(group, user string) {
	e := ac.group.get(group)
	if e == nil {
		return
	}
	var members []string
	if e[3] != "" {
		members = strings.Split(e[3], ",")
	}
	if slices.Contains(members, user) {
		return
	}
	e[3] = strings.Join(append(members, user), ",")
	ac.group.put(e)
}
