package kmod

// match reports whether name matches the shell pattern (fnmatch(3) without
// flags, as kmod uses for modules.alias): '*' any run, '?' one byte, and
// bracket classes [abc], [a-z], [!x] or [^x]. A malformed class matches
// nothing.
func match(pattern, name string) bool {
	px, nx := 0, 0
	nextPx, nextNx := -1, -1 // where to resume after the last '*'
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextNx = px, nx+1
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					if ok, width := matchClass(pattern[px:], name[nx]); ok {
						px += width
						nx++
						continue
					}
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if nextNx > 0 && nextNx <= len(name) {
			px, nx = nextPx, nextNx
			continue
		}
		return false
	}
	return true
}

// matchClass matches b against the bracket expression at the start of p and
// returns the expression's width in bytes.
func matchClass(p string, b byte) (ok bool, width int) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	matched := false
	for first := true; i < len(p); first = false {
		c := p[i]
		if c == ']' && !first {
			return matched != negate, i + 1
		}
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			if c <= b && b <= p[i+2] {
				matched = true
			}
			i += 3
			continue
		}
		if c == b {
			matched = true
		}
		i++
	}
	return false, 0 // no closing bracket
}
