package cloudconfig

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/ros-os/ros/pkg/suggest"
)

// decoder fills Go values from a yaml.Node tree. Unknown keys become
// warnings; values of the wrong kind and repeated keys are errors naming
// the source, the line and the key path. It records where each key was
// written, for Validate.
type decoder struct {
	source string
	warn   Warnings
	pos    positions
	steps  int
}

// maxSteps bounds the values one document may expand to through aliases.
const maxSteps = 200_000

var nodeDecoderType = reflect.TypeFor[nodeDecoder]()

// cloudInitOnly are top-level cloud-init keys ros knows and does not do.
var cloudInitOnly = map[string]bool{
	"packages": true, "package_update": true, "package_upgrade": true, "package_reboot_if_required": true,
	"apt": true, "yum_repos": true, "snap": true, "chpasswd": true, "growpart": true, "resize_rootfs": true,
	"disk_setup": true, "fs_setup": true, "phone_home": true, "final_message": true, "power_state": true,
	"ssh_keys": true, "disable_root": true, "preserve_hostname": true, "locale": true, "keyboard": true,
	"puppet": true, "chef": true, "salt_minion": true, "ansible": true, "ca_certs": true, "groups": true,
	"ssh_deletekeys": true, "ssh_genkeytypes": true, "manage_etc_hosts_template": true,
}

func newDecoder(source string) *decoder {
	return &decoder{source: source, pos: positions{}}
}

func (d *decoder) errorf(n *yaml.Node, p path, format string, args ...any) *Error {
	return &Error{Source: d.source, Line: n.Line, Path: string(p), Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) warnf(n *yaml.Node, p path, format string, args ...any) {
	d.warn = append(d.warn, Warning{Source: d.source, Line: n.Line, Path: string(p), Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, p path) error {
	n = deref(n)
	if d.steps++; d.steps > maxSteps {
		return d.errorf(n, p, "document too large: aliases expand to more than %d values", maxSteps)
	}
	if _, ok := d.pos[string(p)]; !ok && p != "" {
		d.pos[string(p)] = keyPos{Source: d.source, Line: n.Line}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // an empty key is the same as an absent one
	}
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		handled, err := v.Addr().Interface().(nodeDecoder).decodeNode(d, n, p)
		if handled || err != nil {
			return err
		}
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
		for i, item := range n.Content {
			if err := d.decode(item, s.Index(i), p.index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		return d.decodeMap(n, v, p)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			return d.errorf(n, p, "%v", err)
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}
	return d.decodeScalar(n, v, p)
}

// pair is a key and its value; merged is set for those brought in by a
// merge key (<<: *anchor), which the keys written beside it override.
type pair struct {
	k, v   *yaml.Node
	merged bool
}

// pairs returns the pairs of mapping n, merged ones first so that the keys
// written here win. See expandPairs for the bounds on merging.
func pairs(n *yaml.Node) []pair {
	ps, _ := expandPairs(n)
	return ps
}

// expandPairs returns the pairs of mapping n, following merge keys. A
// mapping merged into itself, directly or through others, is skipped: it
// adds no key its own do not override. Expansion stops once it has visited
// more than maxSteps mappings and pairs (merge keys nest, so a few lines can
// ask for billions); ok is false then and the pairs are cut short.
func expandPairs(n *yaml.Node) (ps []pair, ok bool) {
	e := &pairExpander{active: map[*yaml.Node]bool{}}
	ps = e.add(nil, n, false)
	return ps, e.work <= maxSteps
}

type pairExpander struct {
	active map[*yaml.Node]bool // mappings being expanded: a merge cycle
	work   int                 // mappings visited and pairs added
}

func (e *pairExpander) add(out []pair, n *yaml.Node, merged bool) []pair {
	if e.work++; e.work > maxSteps || e.active[n] {
		return out
	}
	e.active[n] = true
	defer delete(e.active, n)
	var own []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.ShortTag() != "!!merge" {
			own = append(own, pair{k: kn, v: vn, merged: merged})
			continue
		}
		vn = deref(vn)
		srcs := []*yaml.Node{vn}
		if vn.Kind == yaml.SequenceNode {
			srcs = vn.Content
		}
		for _, src := range srcs {
			if src = deref(src); src.Kind == yaml.MappingNode {
				out = e.add(out, src, true)
			}
			if e.work > maxSteps {
				return out
			}
		}
	}
	if e.work += len(own); e.work > maxSteps {
		return out
	}
	return append(out, own...)
}

// pairs is expandPairs with its limit reported as an error at n.
func (d *decoder) pairs(n *yaml.Node, p path) ([]pair, error) {
	ps, ok := expandPairs(n)
	if !ok {
		return nil, d.errorf(n, p, "document too large: merge keys expand to more than %d values", maxSteps)
	}
	return ps, nil
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, p path) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, p, "expected %s, got %s", want(v.Type()), kindName(n))
	}
	ps, err := d.pairs(n, p)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, kv := range ps {
		kn, vn := kv.k, kv.v
		if kn.Kind != yaml.ScalarNode {
			return d.errorf(kn, p, "expected a key, got %s", kindName(kn))
		}
		f, ok := lookupField(v.Type(), kn.Value)
		if !ok {
			msg := "unknown key, ignored"
			if s := suggest.Closest(kn.Value, fieldKeys(v.Type())); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if p == "" && cloudInitOnly[kn.Value] {
				msg = "cloud-init key not supported by ros, ignored"
			}
			d.warnf(kn, p.key(kn.Value), "%s", msg)
			continue
		}
		if line, dup := seen[f.key]; dup && !kv.merged {
			return d.errorf(kn, p.key(kn.Value), "key repeated (first at line %d)", line)
		}
		if !kv.merged {
			seen[f.key] = kn.Line
		}
		d.pos[string(p.key(kn.Value))] = keyPos{Source: d.source, Line: kn.Line}
		if err := d.decode(vn, v.Field(f.index), p.key(kn.Value)); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, p path) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, p, "expected %s, got %s", want(v.Type()), kindName(n))
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	ps, err := d.pairs(n, p)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, kv := range ps {
		kn, vn := kv.k, kv.v
		if kn.Kind != yaml.ScalarNode {
			return d.errorf(kn, p, "expected a string key, got %s", kindName(kn))
		}
		if line, dup := seen[kn.Value]; dup && !kv.merged {
			return d.errorf(kn, p.key(kn.Value), "key repeated (first at line %d)", line)
		}
		if !kv.merged {
			seen[kn.Value] = kn.Line
		}
		kp := p.key(kn.Value)
		d.pos[string(kp)] = keyPos{Source: d.source, Line: kn.Line}
		mv := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(reflect.ValueOf(kn.Value).Convert(v.Type().Key())); old.IsValid() {
			mv.Set(old)
		}
		if err := d.decode(vn, mv, kp); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(kn.Value).Convert(v.Type().Key()), mv)
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
		v.SetString(n.Value) // any scalar, as written: `channel: 1.2` is "1.2"
		return nil
	case reflect.Bool:
		var b bool
		if (tag != "!!bool" && tag != "!!str") || n.Decode(&b) != nil {
			return d.errorf(n, p, "expected true or false, got %q", n.Value)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			return d.errorf(n, p, "expected an integer, got %q", n.Value)
		}
		v.SetInt(i)
		return nil
	}
	return d.errorf(n, p, "cannot decode into %s", v.Type())
}

// want describes what a value of type t is written as.
func want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			return "the integer " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "null"
		case "!!float":
			return "the number " + n.Value
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "an alias"
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
