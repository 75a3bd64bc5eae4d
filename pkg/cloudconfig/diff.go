package cloudconfig

import (
	"reflect"
	"sort"
	"strings"
)

// Diff returns the keys whose values differ between old and new, sorted,
// at the granularity a machine applies them: each top-level key
// (hostname, fqdn, ssh_authorized_keys, users, write_files, bootcmd,
// runcmd, mounts, ntp, timezone, manage_resolv_conf, resolv_conf …), each
// key of the ros: section (ros.network, ros.sysctl, ros.modules,
// ros.environment, ros.services, ros.engine, ros.upgrade, ros.ssh,
// ros.console, ros.cloud_init), and scripts and includes for the parts of
// the user-data that are not YAML. A nil config is an empty one; an empty
// list or mapping is the same as an absent one.
func Diff(old, new *Config) []string {
	if old == nil {
		old = &Config{}
	}
	if new == nil {
		new = &Config{}
	}
	var out []string
	diffStruct(reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem(), "", &out)
	sort.Strings(out)
	return out
}

func diffStruct(a, b reflect.Value, prefix string, out *[]string) {
	for _, f := range fieldsOfAll(a.Type()) {
		key := f.key
		if f.noYAML {
			sf := a.Type().Field(f.index)
			key, _, _ = strings.Cut(sf.Tag.Get("json"), ",")
		}
		fa, fb := a.Field(f.index), b.Field(f.index)
		if prefix == "" && key == "ros" {
			diffStruct(fa, fb, "ros.", out)
			continue
		}
		if !equalValue(fa, fb) {
			*out = append(*out, prefix+key)
		}
	}
}

// equalValue compares exported contents; an empty list or mapping equals
// an absent one. A nil pointer differs from a pointer to false.
func equalValue(a, b reflect.Value) bool {
	if a.Kind() == reflect.Slice || a.Kind() == reflect.Map {
		if a.Len() == 0 && b.Len() == 0 {
			return true
		}
		if a.Len() != b.Len() {
			return false
		}
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return equalValue(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).IsExported() && !equalValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		for i := 0; i < a.Len(); i++ {
			if !equalValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		iter := a.MapRange()
		for iter.Next() {
			bv := b.MapIndex(iter.Key())
			if !bv.IsValid() || !equalValue(iter.Value(), bv) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
