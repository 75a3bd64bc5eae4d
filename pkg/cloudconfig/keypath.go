package cloudconfig

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/ros-os/ros/pkg/suggest"
)

// ErrNotSet is wrapped by Get when a key is valid but the config does not
// set it (or sets it to its empty value).
var ErrNotSet = errors.New("not set")

// ErrUnknownKey is wrapped by Get and Set when a key names nothing in a
// cloud-config; the message suggests the nearest key when one is close.
var ErrUnknownKey = errors.New("unknown key")

// A key is written as Validate names paths: YAML key names joined by
// dots, list entries by index in brackets (users[0].name). The key of a
// map whose values are plain (sysctl, environment) keeps its dots:
// ros.sysctl.net.ipv4.ip_forward. Map keys holding dots where the values
// are mappings (an interface named eth0.100) are found by the longest key
// present.

// splitKey turns a key into steps: names, and "[N]" for list indexes.
func splitKey(key string) ([]string, error) {
	if key == "" {
		return nil, fmt.Errorf("empty key: %w", ErrUnknownKey)
	}
	var out []string
	for _, part := range strings.Split(key, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if rest != "" {
			rest = "[" + rest
		}
		if name == "" && (rest == "" || len(out) == 0) {
			return nil, fmt.Errorf("%q: empty key segment: %w", key, ErrUnknownKey)
		}
		if name != "" {
			out = append(out, name)
		}
		for rest != "" {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("%q: unclosed '[': %w", key, ErrUnknownKey)
			}
			if _, err := strconv.Atoi(rest[1:end]); err != nil || rest[1:end] == "" || rest[1] == '-' {
				return nil, fmt.Errorf("%q: %q is not a list index: %w", key, rest[:end+1], ErrUnknownKey)
			}
			out = append(out, rest[:end+1])
			rest = rest[end+1:]
		}
	}
	return out, nil
}

// joinKey is the inverse of splitKey.
func joinKey(steps []string) string {
	var b strings.Builder
	for _, s := range steps {
		if b.Len() > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func isIndex(step string) (int, bool) {
	if !strings.HasPrefix(step, "[") {
		return 0, false
	}
	i, err := strconv.Atoi(step[1 : len(step)-1])
	return i, err == nil
}

// plainElem tells whether the values of map type t are plain values, so
// that the rest of a key is one map key (sysctl names hold dots).
func plainElem(t reflect.Type) bool {
	e := t.Elem()
	for e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	switch e.Kind() {
	case reflect.Struct, reflect.Map, reflect.Interface, reflect.Slice:
		return false
	}
	return true
}

// unknownKey is the error for step i of steps, which names nothing in a
// value of type t (a struct's keys are suggested from).
func unknownKey(steps []string, i int, t reflect.Type, why string) error {
	key := joinKey(steps[:i+1])
	msg := fmt.Sprintf("%s: %v", key, ErrUnknownKey)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && t.Kind() == reflect.Struct && why == "" {
		if s := suggest.Closest(steps[i], fieldKeys(t)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", joinKey(append(append([]string{}, steps[:i]...), s)))
		}
	}
	if why != "" {
		msg += " (" + why + ")"
	}
	return &keyError{msg: msg, err: ErrUnknownKey}
}

type keyError struct {
	msg string
	err error
}

func (e *keyError) Error() string { return e.msg }
func (e *keyError) Unwrap() error { return e.err }

// checkPath reports whether steps[i:] name something inside a value of
// type t, returning the unknown-key error if not.
func checkPath(t reflect.Type, steps []string, i int) error {
	for ; i < len(steps); i++ {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		step := steps[i]
		switch t.Kind() {
		case reflect.Struct:
			f, ok := lookupField(t, step)
			if !ok {
				return unknownKey(steps, i, t, "")
			}
			t = t.Field(f.index).Type
		case reflect.Slice:
			if _, ok := isIndex(step); !ok {
				return unknownKey(steps, i, t, fmt.Sprintf("%s is a list: give an index such as %s[0]", joinKey(steps[:i]), joinKey(steps[:i])))
			}
			t = t.Elem()
		case reflect.Map:
			if _, ok := isIndex(step); ok {
				return unknownKey(steps, i, t, joinKey(steps[:i])+" is a mapping, not a list")
			}
			if plainElem(t) {
				return nil
			}
			_, err := splitMissing(t, steps, i)
			return err
		case reflect.Interface:
			return nil // any value (daemon.json): any key may be there
		default:
			return unknownKey(steps, i, nil, joinKey(steps[:i])+" is a single value and has no keys")
		}
	}
	return nil
}

// mapKey picks the map key steps[i:] start with in m: the longest present
// one, or when none is, the whole rest for plain maps and the first step
// otherwise. It returns the key and the index of the step after it.
func mapKey(m reflect.Value, steps []string, i int) (string, int, bool) {
	if plainElem(m.Type()) {
		k := strings.Join(steps[i:], ".")
		return k, len(steps), m.MapIndex(reflect.ValueOf(k).Convert(m.Type().Key())).IsValid()
	}
	if m.Type().Elem().Kind() != reflect.Interface {
		for j := len(steps); j > i+1; j-- {
			k := strings.Join(steps[i:j], ".")
			if m.MapIndex(reflect.ValueOf(k).Convert(m.Type().Key())).IsValid() {
				return k, j, true
			}
		}
	}
	if k := steps[i]; m.MapIndex(reflect.ValueOf(k).Convert(m.Type().Key())).IsValid() {
		return k, i + 1, true
	}
	j, err := splitMissing(m.Type(), steps, i)
	if err != nil {
		j = i + 1
	}
	return strings.Join(steps[i:j], "."), j, false
}

// splitMissing finds where a key absent from a map of type t ends in
// steps[i:]: the shortest run of steps after which the rest is a path in
// the map's values. A key with dots (eth0.100) must be followed by a
// sub-key, so that a mistyped sub-key is reported, not taken as a name.
func splitMissing(t reflect.Type, steps []string, i int) (int, error) {
	var first error
	for j := i + 1; j <= len(steps); j++ {
		if j == len(steps) && j != i+1 {
			break
		}
		err := checkPath(t.Elem(), steps, j)
		if err == nil {
			return j, nil
		}
		if first == nil {
			first = err
		}
	}
	return 0, first
}
