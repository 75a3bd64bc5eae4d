package cloudconfig

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// SetSource names the value given to Set in errors and warnings.
const SetSource = "set"

// Set returns a copy of c with key (written as for Get) set to yamlValue,
// a YAML value: `box`, `[1.1.1.1, 8.8.8.8]`, `{dhcp: false}`. The value
// replaces what c had there (lists are not appended to); an empty value
// or null unsets the key. The value is read and the whole config checked
// exactly as Parse does: errors name the key (and the line inside a value
// of several lines) and wrap ErrInvalid; unknown keys inside the value are
// warnings. c is not changed.
func Set(c *Config, key, yamlValue string) (*Config, Warnings, error) {
	key, err := aliasKey(key)
	if err != nil {
		return nil, nil, err
	}
	steps, err := splitKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := checkPath(reflect.TypeFor[Config](), steps, 0); err != nil {
		return nil, nil, err
	}
	node, err := valueYAML(key, yamlValue)
	if err != nil {
		return nil, nil, err
	}
	out := Clone(c)
	if out == nil {
		out = &Config{}
	}
	d := newDecoder(SetSource)
	assign := func(target reflect.Value, p string) error {
		nv := reflect.New(target.Type()).Elem()
		if err := d.decode(node, nv, path(p)); err != nil {
			return err
		}
		target.Set(nv)
		return nil
	}
	if err := setValue(reflect.ValueOf(out).Elem(), steps, 0, assign); err != nil {
		return nil, d.warn, err
	}
	// The positions of what was there before mean nothing now.
	p := joinKey(steps)
	maps.DeleteFunc(out.pos, func(k string, _ keyPos) bool {
		return k == p || strings.HasPrefix(k, p+".") || strings.HasPrefix(k, p+"[")
	})
	if out.pos == nil {
		out.pos = positions{}
	}
	maps.Copy(out.pos, d.pos)
	normalize(out)
	warn := sortWarnings(d.warn)
	if err := out.Validate(); err != nil {
		return nil, warn, err
	}
	return out, warn, nil
}

// valueYAML parses the value given to Set; an empty one is null.
func valueYAML(key, value string) (*yaml.Node, error) {
	null := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: 1}
	if strings.TrimSpace(value) == "" {
		return null, nil
	}
	oneLine := !strings.Contains(strings.TrimSpace(value), "\n")
	dec := yaml.NewDecoder(strings.NewReader(value))
	var doc, extra yaml.Node
	err := dec.Decode(&doc)
	if err == nil {
		if err2 := dec.Decode(&extra); err2 == nil {
			return nil, &Error{Source: SetSource, Line: extra.Line, Path: key, Msg: "more than one YAML document; give one value"}
		} else if !errors.Is(err2, io.EOF) {
			err = err2
		}
	}
	if errors.Is(err, io.EOF) {
		return null, nil
	}
	if err != nil {
		e := syntaxError(SetSource, err)
		e.Path = key
		if oneLine {
			e.Line = 0
		}
		return nil, e
	}
	if len(doc.Content) == 0 {
		return null, nil
	}
	if oneLine {
		clearLines(doc.Content[0]) // "set:1:" would tell nothing
	}
	return doc.Content[0], nil
}

// setValue follows steps[i:] from v (settable), creating what is missing
// on the way, and calls assign on the value the key names. Map entries are
// copied out, changed and stored back; an entry set to its empty value is
// deleted.
func setValue(v reflect.Value, steps []string, i int, assign func(reflect.Value, string) error) error {
	if i == len(steps) {
		return assign(v, joinKey(steps))
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return setValue(v.Elem(), steps, i, assign)
	case reflect.Struct:
		f, ok := lookupField(v.Type(), steps[i])
		if !ok {
			return unknownKey(steps, i, v.Type(), "")
		}
		return setValue(v.Field(f.index), steps, i+1, assign)
	case reflect.Slice:
		n, ok := isIndex(steps[i])
		if !ok {
			return checkPath(v.Type(), steps, i)
		}
		if n >= v.Len() {
			return &Error{Source: SetSource, Path: joinKey(steps[:i+1]), Msg: fmt.Sprintf(
				"%s has %d entries; set the whole list to add one", joinKey(steps[:i]), v.Len())}
		}
		return setValue(v.Index(n), steps, i+1, assign)
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		k, next, _ := mapKey(v, steps, i)
		kv := reflect.ValueOf(k).Convert(v.Type().Key())
		ev := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(kv); old.IsValid() {
			ev.Set(cloneValue(old))
		}
		if err := setValue(ev, steps, next, assign); err != nil {
			return err
		}
		if isEmpty(ev) {
			v.SetMapIndex(kv, reflect.Value{})
		} else {
			v.SetMapIndex(kv, ev)
		}
		return nil
	case reflect.Interface:
		// Inside daemon.json: a mapping, made if there is none.
		m, _ := v.Interface().(map[string]any)
		mv := reflect.ValueOf(&m).Elem()
		if m == nil {
			if !v.IsNil() {
				return &Error{Source: SetSource, Path: joinKey(steps[:i+1]), Msg: joinKey(steps[:i]) + " is not a mapping"}
			}
			mv.Set(reflect.ValueOf(map[string]any{}))
		} else {
			mv.Set(reflect.ValueOf(maps.Clone(m)))
		}
		if err := setValue(mv, steps, i, assign); err != nil {
			return err
		}
		v.Set(mv)
		return nil
	}
	return unknownKey(steps, i, nil, joinKey(steps[:i])+" is a single value and has no keys")
}
