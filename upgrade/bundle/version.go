package bundle

import (
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// CompareVersions orders two OS versions: -1 if a is older than b, 0 if the
// same, +1 if newer. When both are semantic versions (v1, v1.2,
// v1.2.3-rc.1, …) semver order applies; otherwise a valid semver is newer
// than an invalid one, and two non-semver strings compare in natural order
// (runs of digits by value: 2024.5.10 > 2024.5.9).
func CompareVersions(a, b string) int {
	va, vb := semver.IsValid(a), semver.IsValid(b)
	switch {
	case va && vb:
		return semver.Compare(a, b)
	case va:
		return 1
	case vb:
		return -1
	}
	if c := naturalCompare(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b) // 07 vs 7: equal by value, still distinct
}

// CompareBuilds orders two builds given their versions and build times:
// semver order when both versions are semver, else build time order when
// both times are set and differ, else CompareVersions. Equal version
// strings are always the same build.
func CompareBuilds(a string, at time.Time, b string, bt time.Time) int {
	if a == b || semver.IsValid(a) && semver.IsValid(b) {
		return CompareVersions(a, b)
	}
	if !at.IsZero() && !bt.IsZero() && !at.Equal(bt) {
		return at.Compare(bt)
	}
	return CompareVersions(a, b)
}

// naturalCompare compares strings piecewise: digit runs numerically (leading
// zeros ignored), everything else byte by byte.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		switch {
		case da && db:
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			na, nb = strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
		case a[0] != b[0]:
			return cmpInt(int(a[0]), int(b[0]))
		default:
			a, b = a[1:], b[1:]
		}
	}
	return cmpInt(len(a), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
