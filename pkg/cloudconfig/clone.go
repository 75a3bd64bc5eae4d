package cloudconfig

import (
	"maps"
	"reflect"
)

// Clone returns a deep copy of c.
func Clone(c *Config) *Config {
	if c == nil {
		return nil
	}
	out := cloneValue(reflect.ValueOf(c)).Interface().(*Config)
	out.pos = maps.Clone(c.pos)
	return out
}

// cloneValue deep-copies v. Structs are copied whole first, so unexported
// fields (positions of build-file entries) are kept, then their exported
// fields are copied deeply.
func cloneValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		nv := reflect.New(v.Type().Elem())
		nv.Elem().Set(cloneValue(v.Elem()))
		return nv
	case reflect.Struct:
		nv := reflect.New(v.Type()).Elem()
		nv.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				nv.Field(i).Set(cloneValue(v.Field(i)))
			}
		}
		return nv
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		nv := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			nv.Index(i).Set(cloneValue(v.Index(i)))
		}
		return nv
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		nv := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			nv.SetMapIndex(iter.Key(), cloneValue(iter.Value()))
		}
		return nv
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		nv := reflect.New(v.Type()).Elem()
		nv.Set(cloneValue(v.Elem()))
		return nv
	}
	return v
}
