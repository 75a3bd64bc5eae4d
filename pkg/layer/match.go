package layer

import (
	"path"
	"strings"
)

// Match reports whether the tree path p matches pattern. Patterns are
// path.Match globs per path segment with a leading "/" optional, plus "**"
// for any number (zero included) of segments: "/usr/share/doc/**",
// "**/*.pyc", "/usr/lib/x86_64-linux-gnu/libssl.so.*".
func Match(pattern, p string) bool {
	ps := splitPath(Clean(pattern))
	ns := splitPath(Clean(p))
	return matchSegs(ps, ns)
}

// ValidPattern reports whether pattern is well formed.
func ValidPattern(pattern string) bool {
	for _, s := range splitPath(Clean(pattern)) {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return false
		}
	}
	return true
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func matchSegs(ps, ns []string) bool {
	for len(ps) > 0 {
		if ps[0] == "**" {
			for i := 0; i <= len(ns); i++ {
				if matchSegs(ps[1:], ns[i:]) {
					return true
				}
			}
			return false
		}
		if len(ns) == 0 {
			return false
		}
		ok, err := path.Match(ps[0], ns[0])
		if err != nil || !ok {
			return false
		}
		ps, ns = ps[1:], ns[1:]
	}
	return len(ns) == 0
}
