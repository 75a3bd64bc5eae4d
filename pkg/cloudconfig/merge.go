package cloudconfig

import (
	"maps"
	"reflect"
	"slices"
)

// Merge returns base with over laid on top; neither is changed. The merge
// order on a machine is image defaults < saved config < datasource <
// kernel command line, each one the over of the one before.
//
//   - Scalars (strings, numbers, booleans): over's value wins when set.
//     Booleans a later config must be able to clear are pointers, so an
//     explicit false wins too.
//   - Mappings (sysctl, environment, interfaces, engine.daemon …): merged
//     key by key, recursively; over wins on a key both give.
//   - Lists append: ssh_authorized_keys (top level and per user, without
//     repeating a key), write_files, bootcmd, runcmd, and the Scripts and
//     Includes of the user-data.
//   - Lists merged by name: users (a user in both is merged field by field)
//     and ros.services.definitions (over's entry replaces base's).
//   - ros.services.enable and disable: united; a name over enables is
//     taken out of disable, and the other way round.
//   - Every other list replaces: mounts, ntp servers and pools, DNS
//     servers, addresses, modules, upgrade public_keys, host_keys, ttys,
//     datasources, engine args …
func Merge(base, over *Config) *Config {
	switch {
	case base == nil && over == nil:
		return &Config{}
	case base == nil:
		return Clone(over)
	case over == nil:
		return Clone(base)
	}
	out := Clone(base)
	o := Clone(over)
	mergeValue(reflect.ValueOf(out).Elem(), reflect.ValueOf(o).Elem(), "")
	out.ROS.Services.Enable, out.ROS.Services.Disable = mergeEnable(
		base.ROS.Services.Enable, base.ROS.Services.Disable, over.ROS.Services.Enable, over.ROS.Services.Disable)
	if base.pos != nil || over.pos != nil {
		out.pos = positions{}
		maps.Copy(out.pos, base.pos)
		maps.Copy(out.pos, over.pos)
	}
	return out
}

// mergeValue lays src over dst, both settable values of one type.
func mergeValue(dst, src reflect.Value, mode string) {
	switch dst.Kind() {
	case reflect.Struct:
		for _, f := range fieldsOfAll(dst.Type()) {
			mergeValue(dst.Field(f.index), src.Field(f.index), f.merge)
		}
	case reflect.Map:
		if src.Len() == 0 {
			return
		}
		if dst.IsNil() {
			dst.Set(src)
			return
		}
		for _, k := range src.MapKeys() {
			sv, dv := src.MapIndex(k), dst.MapIndex(k)
			if !dv.IsValid() {
				dst.SetMapIndex(k, sv)
				continue
			}
			nv := reflect.New(dv.Type()).Elem()
			nv.Set(dv)
			mergeMapValue(nv, sv)
			dst.SetMapIndex(k, nv)
		}
	case reflect.Slice:
		switch {
		case src.IsNil():
		case mode == "append":
			dst.Set(appendUnique(dst, src))
		case mode == "byname":
			dst.Set(mergeByName(dst, src))
		default:
			dst.Set(src)
		}
	default:
		if !src.IsZero() {
			dst.Set(src)
		}
	}
}

// mergeMapValue merges one map value: structs and maps recursively, nested
// daemon.json mappings too; anything else is replaced.
func mergeMapValue(dst, src reflect.Value) {
	if dst.Kind() == reflect.Interface {
		dm, ok1 := dst.Interface().(map[string]any)
		sm, ok2 := src.Interface().(map[string]any)
		if ok1 && ok2 {
			m := maps.Clone(dm)
			mergeValue(reflect.ValueOf(m), reflect.ValueOf(sm), "")
			dst.Set(reflect.ValueOf(m))
			return
		}
		dst.Set(src)
		return
	}
	if dst.Kind() == reflect.Struct || dst.Kind() == reflect.Map {
		mergeValue(dst, src, "")
		return
	}
	dst.Set(src)
}

// appendUnique appends src to dst; strings already in dst are skipped
// (a key given twice is one key), other entries are always appended.
func appendUnique(dst, src reflect.Value) reflect.Value {
	out := reflect.AppendSlice(reflect.MakeSlice(dst.Type(), 0, dst.Len()+src.Len()), dst)
	for i := 0; i < src.Len(); i++ {
		v := src.Index(i)
		if v.Kind() == reflect.String && containsString(out, v.String()) {
			continue
		}
		out = reflect.Append(out, v)
	}
	return out
}

func containsString(s reflect.Value, x string) bool {
	for i := 0; i < s.Len(); i++ {
		if s.Index(i).String() == x {
			return true
		}
	}
	return false
}

// mergeByName merges lists whose entries have a Name: an entry of src
// whose name is in dst is merged into it (structs) or replaces it
// (pointers); the others are appended.
func mergeByName(dst, src reflect.Value) reflect.Value {
	out := reflect.AppendSlice(reflect.MakeSlice(dst.Type(), 0, dst.Len()+src.Len()), dst)
	for i := 0; i < src.Len(); i++ {
		sv := src.Index(i)
		j := indexByName(out.Slice(0, dst.Len()), nameOf(sv)) // only base's entries: a repeat within src stays for Validate
		switch {
		case j < 0:
			out = reflect.Append(out, sv)
		case sv.Kind() == reflect.Struct:
			mergeValue(out.Index(j), sv, "")
		default:
			out.Index(j).Set(sv)
		}
	}
	return out
}

func nameOf(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	return v.FieldByName("Name").String()
}

func indexByName(s reflect.Value, name string) int {
	for i := 0; i < s.Len(); i++ {
		if nameOf(s.Index(i)) == name {
			return i
		}
	}
	return -1
}

func mergeEnable(be, bd, oe, od []string) (enable, disable []string) {
	for _, n := range be {
		if !slices.Contains(od, n) && !slices.Contains(enable, n) {
			enable = append(enable, n)
		}
	}
	for _, n := range bd {
		if !slices.Contains(oe, n) && !slices.Contains(disable, n) {
			disable = append(disable, n)
		}
	}
	for _, n := range oe {
		if !slices.Contains(enable, n) {
			enable = append(enable, n)
		}
	}
	for _, n := range od {
		if !slices.Contains(disable, n) {
			disable = append(disable, n)
		}
	}
	return enable, disable
}
