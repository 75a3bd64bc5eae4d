package ocispec

// The override helpers: the second (YAML) value wins over the first (label).

// pick returns *y if set, else *l if set, else an empty, non-nil list.
func pick[T any](l, y *[]T) []T {
	if y != nil {
		return *y
	}
	if l != nil {
		return *l
	}
	return []T{}
}

// pick3 is pick with the image config's value below the label's.
func pick3(img []string, l, y *[]string) []string {
	if y != nil {
		return *y
	}
	if l != nil {
		return *l
	}
	return img
}

// pickPtr returns y if set, else l.
func pickPtr[T any](l, y *T) *T {
	if y != nil {
		return y
	}
	return l
}

func pickBool(l, y *bool) bool {
	if p := pickPtr(l, y); p != nil {
		return *p
	}
	return false
}

func pickMap(l, y *map[string]string) map[string]string {
	if p := pickPtr(l, y); p != nil {
		return *p
	}
	return map[string]string{}
}

// mergeLists is the label list followed by the YAML ".add" list, without
// repeats; nil when both are unset.
func mergeLists(l, add *[]string) *[]string {
	switch {
	case l == nil && add == nil:
		return nil
	case add == nil:
		return l
	case l == nil:
		return add
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, *l...), *add...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return &out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
