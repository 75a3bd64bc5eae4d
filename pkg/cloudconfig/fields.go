package cloudconfig

import (
	"reflect"
	"strings"
	"sync"
)

// field is one key of a struct, as its yaml tag spells it.
type field struct {
	key    string
	index  int
	secret string // `secret:"true"`: redacted by Export; "url": its password is
	merge  string // `merge:"append"` or `merge:"byname"`; "" replaces
	noYAML bool   // yaml:"-": merged and cloned, not read or written
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf lists the keys of struct type t, in declaration order. Fields
// without a yaml name (yaml:"-") and unexported fields are left out.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for _, f := range fieldsOfAll(t) {
		if !f.noYAML {
			out = append(out, f)
		}
	}
	return out
}

// fieldsOfAll lists the exported fields of struct type t.
func fieldsOfAll(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out = append(out, field{key: name, index: i, secret: sf.Tag.Get("secret"),
			merge: sf.Tag.Get("merge"), noYAML: name == "-"})
	}
	fieldCache.Store(t, out)
	return out
}

func lookupField(t reflect.Type, key string) (field, bool) {
	for _, f := range fieldsOf(t) {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func fieldKeys(t reflect.Type) []string {
	var out []string
	for _, f := range fieldsOf(t) {
		out = append(out, f.key)
	}
	return out
}
