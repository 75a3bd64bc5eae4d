package buildfile

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/ros-os/ros/pkg/suggest"
)

// decoder fills Go values from a yaml.Node tree, strictly: every key must be
// known, every value must have the expected kind, keys may not repeat. Each
// error names the file, the line and the path of the offending key.
type decoder struct {
	file  string
	steps int // values decoded, bounded against alias expansion bombs
}

// maxSteps bounds the values one document may expand to through aliases.
const maxSteps = 1_000_000

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// positioned is implemented by the entries that remember where they were written.
type positioned interface{ setPos(Pos) }

func (k *Kernel) setPos(p Pos) { k.pos = p }
func (i *Image) setPos(p Pos)  { i.pos = p }
func (f *File) setPos(p Pos)   { f.pos = p }
func (v *Volume) setPos(p Pos) { v.pos = p }

// labelKeys names the key whose value labels a sequence entry in messages.
var labelKeys = map[reflect.Type]string{
	reflect.TypeFor[Image]():  "name",
	reflect.TypeFor[File]():   "path",
	reflect.TypeFor[Volume](): "name",
}

func (d *decoder) errorf(n *yaml.Node, p path, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Path: string(p), Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, p path) error {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.steps++; d.steps > maxSteps {
		return d.errorf(n, p, "document too large: aliases expand to more than %d values", maxSteps)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && v.Kind() != reflect.Interface {
		return d.errorf(n, p, "expected %s, got null (remove the key or give it a value)", want(v.Type()))
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return d.errorf(n, p, "%s", cleanYAMLError(err))
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if err := d.decode(n, nv.Elem(), p); err != nil {
			return err
		}
		v.Set(nv)
		return nil
	case reflect.Struct:
		return d.decodeStruct(n, v, p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errorf(n, p, "expected %s, got %s", want(v.Type()), kindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		lk := labelKeys[derefType(v.Type().Elem())]
		for i, item := range n.Content {
			ip := p.index(i)
			if lk != "" {
				if l, ok := scalarValue(item, lk); ok {
					ip = ip.label(l)
				}
			}
			if err := d.decode(item, s.Index(i), ip); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return d.errorf(n, p, "expected %s, got %s", want(v.Type()), kindName(n))
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind != yaml.ScalarNode {
				return d.errorf(kn, p, "expected a string key, got %s", kindName(kn))
			}
			if line, dup := seen[kn.Value]; dup {
				return d.errorf(kn, p, "key %q repeated (first at line %d)", kn.Value, line)
			}
			seen[kn.Value] = kn.Line
			mv := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(vn, mv, p.key(kn.Value)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(kn.Value).Convert(v.Type().Key()), mv)
		}
		v.Set(m)
		return nil
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			return d.errorf(n, p, "%s", cleanYAMLError(err))
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}
	return d.decodeScalar(n, v, p)
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, p path) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, p, "expected %s, got %s", want(v.Type()), kindName(n))
	}
	si := fieldsOf(v.Type())
	seen := map[string]int{}
	// YAML merge keys (<<: *anchor) first, so that the keys written here win.
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.ShortTag() != "!!merge" {
			continue
		}
		for vn.Kind == yaml.AliasNode {
			vn = vn.Alias
		}
		srcs := []*yaml.Node{vn}
		if vn.Kind == yaml.SequenceNode {
			srcs = vn.Content
		}
		for _, src := range srcs {
			if err := d.decodeStruct(deref(src), v, p); err != nil {
				return err
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.ShortTag() == "!!merge" {
			continue
		}
		if kn.Kind != yaml.ScalarNode {
			return d.errorf(kn, p, "expected a key, got %s", kindName(kn))
		}
		f, ok := si.lookup(kn.Value)
		if !ok {
			msg := fmt.Sprintf("unknown key %q", kn.Value)
			if s := suggest.Closest(kn.Value, si.keys()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return d.errorf(kn, p, "%s", msg)
		}
		if line, dup := seen[f.key]; dup {
			return d.errorf(kn, p, "key %q repeated (first at line %d)", kn.Value, line)
		}
		seen[f.key] = kn.Line
		if err := d.decode(vn, fieldByIndex(v, f.index), p.key(kn.Value)); err != nil {
			return err
		}
	}
	if v.CanAddr() {
		if ps, ok := v.Addr().Interface().(positioned); ok {
			ps.setPos(Pos{File: d.file, Line: n.Line})
		}
	}
	return nil
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, p path) error {
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, p, "expected %s, got %s", want(v.Type()), kindName(n))
	}
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.String:
		if tag != "!!str" {
			return d.errorf(n, p, "expected a string, got %s (quote it: %q)", kindName(n), n.Value)
		}
		v.SetString(n.Value)
		return nil
	case reflect.Bool:
		if tag != "!!bool" {
			return d.errorf(n, p, "expected true or false, got %s %q", kindName(n), n.Value)
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			return d.errorf(n, p, "expected true or false, got %q", n.Value)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			return d.errorf(n, p, "expected %s, got %s %q", want(v.Type()), kindName(n), n.Value)
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var u uint64
		if tag != "!!int" || n.Decode(&u) != nil || v.OverflowUint(u) {
			return d.errorf(n, p, "expected %s, got %s %q", want(v.Type()), kindName(n), n.Value)
		}
		v.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		var f float64
		if (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
			return d.errorf(n, p, "expected a number, got %s %q", kindName(n), n.Value)
		}
		v.SetFloat(f)
		return nil
	}
	return d.errorf(n, p, "cannot decode into %s", v.Type())
}

// want describes what a value of type t is written as.
func want(t reflect.Type) string {
	t = derefType(t)
	if t == reflect.TypeFor[ID]() {
		return "a number or a name"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := t.Bits()
		return "an integer from 0 to " + strconv.FormatUint(1<<bits-1, 10)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a sequence of " + plural(derefType(t.Elem()))
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

func plural(t reflect.Type) string {
	if t == reflect.TypeFor[ID]() {
		return "numbers or names"
	}
	switch t.Kind() {
	case reflect.String:
		return "strings"
	case reflect.Struct, reflect.Map:
		return "mappings"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integers"
	}
	return "values"
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// scalarValue returns the string value of key in mapping n.
func scalarValue(n *yaml.Node, key string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return "", false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := deref(n.Content[i+1])
			if v.Kind == yaml.ScalarNode && v.Value != "" {
				return v.Value, true
			}
		}
	}
	return "", false
}

// cleanYAMLError strips yaml.v3's "yaml: unmarshal errors:\n  line N: " wrapping.
func cleanYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if m := lineMsgRE.FindStringSubmatch(msg); m != nil {
			return m[1]
		}
		return msg
	}
	return err.Error()
}
