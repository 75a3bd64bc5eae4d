package buildfile

import (
	"reflect"
	"strings"
	"sync"
)

// field is one key of a struct as the build format spells it.
//
// Our own types carry yaml tags and are matched exactly. Types from other
// modules (runtime-spec) carry only json tags: their keys are matched without
// regard to case, as encoding/json does, so that both the camelCase names of
// the runtime spec ("hostID") and the lower-case names LinuxKit's YAML decoder
// derives ("hostid") are accepted.
type field struct {
	key       string
	index     []int
	omitEmpty bool
	required  bool
}

type structInfo struct {
	fields  []field
	foldKey bool // match keys without regard to case (json-tagged types)
}

var structCache sync.Map // reflect.Type -> *structInfo

// fieldsOf returns the keys of struct type t in declaration order, inline
// and embedded structs flattened.
func fieldsOf(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{foldKey: !hasYAMLTags(t)}
	si.fields = collectFields(t, nil, si.foldKey)
	structCache.Store(t, si)
	return si
}

func hasYAMLTags(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		if _, ok := t.Field(i).Tag.Lookup("yaml"); ok {
			return true
		}
	}
	return false
}

func collectFields(t reflect.Type, index []int, jsonMode bool) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		tagName := "yaml"
		if jsonMode {
			tagName = "json"
		}
		tag, hasTag := sf.Tag.Lookup(tagName)
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		inline := strings.Contains(","+opts+",", ",inline,")
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct && (inline || (jsonMode && name == "")) {
			out = append(out, collectFields(sf.Type, idx, jsonMode)...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			if jsonMode {
				name = sf.Name
			} else {
				name = strings.ToLower(sf.Name)
			}
		}
		_ = hasTag
		out = append(out, field{
			key:       name,
			index:     idx,
			omitEmpty: strings.Contains(","+opts+",", ",omitempty,"),
			required:  sf.Tag.Get("schema") == "required",
		})
	}
	return out
}

// lookup finds the field for key.
func (si *structInfo) lookup(key string) (field, bool) {
	for _, f := range si.fields {
		if f.key == key || (si.foldKey && strings.EqualFold(f.key, key)) {
			return f, true
		}
	}
	return field{}, false
}

// keys lists the known keys, for suggestions.
func (si *structInfo) keys() []string {
	out := make([]string, len(si.fields))
	for i, f := range si.fields {
		out[i] = f.key
	}
	return out
}

// fieldByIndex returns the field of v at index, allocating nil embedded
// pointers on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}
