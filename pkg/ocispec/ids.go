package ocispec

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/moby/sys/user"

	"github.com/ros-os/ros/pkg/buildfile"
)

// ErrUnknownID is wrapped when a user or group name is not in the image.
var ErrUnknownID = errors.New("unknown user or group")

// IDResolver maps the user and group names of an image to numbers.
type IDResolver interface {
	UID(name string) (uint32, error)
	GID(name string) (uint32, error)
}

// IDMap is an IDResolver over fixed tables, usually read from an image's
// /etc/passwd and /etc/group with ReadIDMap.
type IDMap struct {
	Users  map[string]uint32
	Groups map[string]uint32
}

// UID returns the number of user name.
func (m IDMap) UID(name string) (uint32, error) {
	if id, ok := m.Users[name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("user %q: %w (not in the image's /etc/passwd)", name, ErrUnknownID)
}

// GID returns the number of group name.
func (m IDMap) GID(name string) (uint32, error) {
	if id, ok := m.Groups[name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("group %q: %w (not in the image's /etc/group)", name, ErrUnknownID)
}

// ReadIDMap reads /etc/passwd and /etc/group contents; either may be nil.
func ReadIDMap(passwd, group io.Reader) (IDMap, error) {
	m := IDMap{Users: map[string]uint32{}, Groups: map[string]uint32{}}
	if passwd != nil {
		users, err := user.ParsePasswd(passwd)
		if err != nil {
			return m, fmt.Errorf("parse passwd: %w", err)
		}
		for _, u := range users {
			if _, dup := m.Users[u.Name]; !dup && u.Uid >= 0 && u.Uid <= math.MaxUint32 {
				m.Users[u.Name] = uint32(u.Uid)
			}
		}
	}
	if group != nil {
		groups, err := user.ParseGroup(group)
		if err != nil {
			return m, fmt.Errorf("parse group: %w", err)
		}
		for _, g := range groups {
			if _, dup := m.Groups[g.Name]; !dup && g.Gid >= 0 && g.Gid <= math.MaxUint32 {
				m.Groups[g.Name] = uint32(g.Gid)
			}
		}
	}
	return m, nil
}

// resolveID turns a uid or gid into a number. Unset, "" and "root" are 0,
// as in LinuxKit; other names go to lookup.
func resolveID(id *buildfile.ID, lookup func(string) (uint32, error)) (uint32, error) {
	if id == nil || !id.IsName() {
		if id == nil {
			return 0, nil
		}
		return id.Num, nil
	}
	if id.Name == "root" {
		return 0, nil
	}
	if lookup == nil {
		return 0, fmt.Errorf("%q: %w (no user and group tables)", id.Name, ErrUnknownID)
	}
	return lookup(id.Name)
}
