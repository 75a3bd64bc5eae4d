package cloudconfig

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Get returns the value of key in c, in the form Export renders it
// decoded as generic YAML: a string, an int, a bool, a []any or a
// map[string]any (ready for JSON). A key is written as in errors:
//
//	hostname
//	ros.network.dns.nameservers
//	ros.network.interfaces.eth0.mtu
//	ros.sysctl.net.ipv4.ip_forward
//	users[0].ssh_authorized_keys
//
// A key the config does not set (or sets to its empty value) is an error
// wrapping ErrNotSet; a key no cloud-config has is an error wrapping
// ErrUnknownKey that suggests the nearest key. Secrets are returned as
// they are: Get(Redact(c), key) hides them.
func Get(c *Config, key string) (any, error) {
	key, err := aliasKey(key)
	if err != nil {
		return nil, err
	}
	steps, err := splitKey(key)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = &Config{}
	}
	v, err := getValue(reflect.ValueOf(c).Elem(), steps, 0)
	if err != nil {
		return nil, err
	}
	return plain(v)
}

func notSet(steps []string) error {
	return &keyError{msg: fmt.Sprintf("%s: %v", joinKey(steps), ErrNotSet), err: ErrNotSet}
}

// getValue follows steps[i:] from v.
func getValue(v reflect.Value, steps []string, i int) (reflect.Value, error) {
	for ; i < len(steps); i++ {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if err := checkPath(v.Type(), steps, i); err != nil {
					return reflect.Value{}, err
				}
				return reflect.Value{}, notSet(steps)
			}
			v = v.Elem()
		}
		step := steps[i]
		switch v.Kind() {
		case reflect.Struct:
			f, ok := lookupField(v.Type(), step)
			if !ok {
				return reflect.Value{}, unknownKey(steps, i, v.Type(), "")
			}
			v = v.Field(f.index)
		case reflect.Slice:
			n, ok := isIndex(step)
			if !ok {
				return reflect.Value{}, checkPath(v.Type(), steps, i)
			}
			if n >= v.Len() {
				if err := checkPath(v.Type().Elem(), steps, i+1); err != nil {
					return reflect.Value{}, err
				}
				return reflect.Value{}, notSet(steps)
			}
			v = v.Index(n)
		case reflect.Map:
			if err := checkPath(v.Type(), steps, i); err != nil {
				return reflect.Value{}, err
			}
			k, next, ok := mapKey(v, steps, i)
			if !ok {
				return reflect.Value{}, notSet(steps)
			}
			v = v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))
			i = next - 1
		case reflect.Interface:
			if v.IsNil() {
				return reflect.Value{}, notSet(steps)
			}
			v = v.Elem()
			i-- // look at the same step in the dynamic value
		default:
			return reflect.Value{}, unknownKey(steps, i, nil, joinKey(steps[:i])+" is a single value and has no keys")
		}
	}
	if isEmpty(v) {
		return reflect.Value{}, notSet(steps)
	}
	return v, nil
}

// isEmpty tells a value Merge and Export treat as not set.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return v.IsZero()
}

// plain turns a value into the generic form YAML decodes to.
func plain(v reflect.Value) (any, error) {
	b, err := yaml.Marshal(v.Interface())
	if err != nil {
		return nil, fmt.Errorf("render value: %w", err)
	}
	var out any
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("read back value: %w", err)
	}
	return out, nil
}

// Redact returns a copy of c with the secrets Export hides without
// private replaced by Redacted.
func Redact(c *Config) *Config {
	if c == nil {
		return nil
	}
	c = Clone(c)
	redact(reflect.ValueOf(c).Elem())
	return c
}
