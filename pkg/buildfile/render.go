package buildfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"gopkg.in/yaml.v3"
)

// Expand returns a copy of c with every image reference (kernel, init,
// onboot, onshutdown, services, volumes) in canonical form, as CanonicalRef
// gives it. Entries are copied; c is not modified.
func Expand(c *Config) (*Config, error) {
	out := *c
	var err error
	if c.Kernel.Image != "" {
		if out.Kernel.Image, err = CanonicalRef(c.Kernel.Image); err != nil {
			return nil, errAt(c.Kernel.pos, "kernel.image", "%v", err)
		}
	}
	out.Init = make([]string, len(c.Init))
	for i, r := range c.Init {
		if out.Init[i], err = CanonicalRef(r); err != nil {
			return nil, errAt(c.InitPos(i), string(path("init").index(i)), "%v", err)
		}
	}
	images := func(sec string, in []*Image) ([]*Image, error) {
		if in == nil {
			return nil, nil
		}
		res := make([]*Image, len(in))
		for i, img := range in {
			cp := *img
			if cp.Image, err = CanonicalRef(img.Image); err != nil {
				return nil, errAt(img.pos, string(path(sec).index(i).label(img.Name)), "%v", err)
			}
			res[i] = &cp
		}
		return res, nil
	}
	if out.Onboot, err = images("onboot", c.Onboot); err != nil {
		return nil, err
	}
	if out.Onshutdown, err = images("onshutdown", c.Onshutdown); err != nil {
		return nil, err
	}
	if out.Services, err = images("services", c.Services); err != nil {
		return nil, err
	}
	if c.Volumes != nil {
		out.Volumes = make([]*Volume, len(c.Volumes))
		for i, v := range c.Volumes {
			cp := *v
			if v.Image != "" {
				if cp.Image, err = CanonicalRef(v.Image); err != nil {
					return nil, errAt(v.pos, string(path("volumes").index(i).label(v.Name)), "%v", err)
				}
			}
			out.Volumes[i] = &cp
		}
	}
	out.Files = append([]File(nil), c.Files...)
	return &out, nil
}

// Render writes the merged build back as YAML with image references
// expanded, as `linuxkit build --dry-run` prints it. Keys keep the order of
// the types; unset keys are left out; trust, which is ignored, is dropped.
func Render(c *Config) ([]byte, error) {
	e, err := Expand(c)
	if err != nil {
		return nil, err
	}
	e.Trust = nil
	n, err := toNode(reflect.ValueOf(e).Elem())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("render build file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render build file: %w", err)
	}
	return buf.Bytes(), nil
}

// Metadata renders the merged build for a files entry with `metadata:`,
// "yaml" (as Render) or "json" (indented, as LinuxKit writes it).
func Metadata(c *Config, format string) ([]byte, error) {
	switch format {
	case "yaml":
		return Render(c)
	case "json":
		e, err := Expand(c)
		if err != nil {
			return nil, err
		}
		e.Trust = nil
		return json.MarshalIndent(e, "", "    ")
	}
	return nil, fmt.Errorf("unsupported metadata type %q: expected yaml or json", format)
}

var marshalerType = reflect.TypeFor[yaml.Marshaler]()

// toNode builds the YAML for v with the keys the decoder accepts.
func toNode(v reflect.Value) (*yaml.Node, error) {
	if v.Type().Implements(marshalerType) {
		n := &yaml.Node{}
		if err := n.Encode(v.Interface()); err != nil {
			return nil, err
		}
		return n, nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		return toNode(v.Elem())
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range fieldsOf(v.Type()).fields {
			fv := fieldValue(v, f.index)
			if !fv.IsValid() || (f.omitEmpty && isEmpty(fv)) {
				continue
			}
			c, err := toNode(fv)
			if err != nil {
				return nil, err
			}
			if f.omitEmpty && c.Kind == yaml.MappingNode && len(c.Content) == 0 && fv.Kind() == reflect.Struct {
				continue
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: f.key}, c)
		}
		return n, nil
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		for i := 0; i < v.Len(); i++ {
			c, err := toNode(v.Index(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			c, err := toNode(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			kn := &yaml.Node{}
			if err := kn.Encode(k.Interface()); err != nil {
				return nil, err
			}
			n.Content = append(n.Content, kn, c)
		}
		return n, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(v.Interface()); err != nil {
		return nil, err
	}
	return n, nil
}

// fieldValue follows index without allocating; it is invalid past a nil pointer.
func fieldValue(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// isEmpty is omitempty's notion of empty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Struct:
		return false // decided by its rendering
	}
	return v.IsZero()
}
