package cloudconfig

import (
	"bytes"
	"fmt"
	"net/url"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Redacted replaces secrets in an Export without private.
const Redacted = "<redacted>"

// Header is the first line of a cloud-config document.
const Header = "#cloud-config"

// Export renders c as a #cloud-config document that Parse reads back to
// the same config. Unless private is set, secrets are replaced by
// Redacted: every field tagged secret:"true" (user passwords and password
// hashes, private host keys) and the password of URLs tagged secret:"url"
// (proxies, the upgrade URL). Scripts and Includes are not part of the
// YAML and are left out.
func Export(c *Config, private bool) ([]byte, error) {
	if c == nil {
		c = &Config{}
	}
	c = Clone(c)
	if !private {
		redact(reflect.ValueOf(c).Elem())
	}
	var b bytes.Buffer
	b.WriteString(Header + "\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("render cloud-config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render cloud-config: %w", err)
	}
	if bytes.Equal(b.Bytes(), []byte(Header+"\n{}\n")) {
		return []byte(Header + "\n"), nil
	}
	return b.Bytes(), nil
}

// redact walks v (our own types only) replacing secrets in place.
func redact(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			redact(v.Elem())
		}
	case reflect.Struct:
		if v.Type().PkgPath() != reflect.TypeFor[Config]().PkgPath() {
			return
		}
		for _, f := range fieldsOfAll(v.Type()) {
			fv := v.Field(f.index)
			switch {
			case f.secret == "true" && fv.Kind() == reflect.String && fv.Len() > 0:
				fv.SetString(Redacted)
			case f.secret == "url" && fv.Kind() == reflect.String:
				fv.SetString(redactURL(fv.String()))
			default:
				redact(fv)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			redact(v.Index(i))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			ev := reflect.New(iter.Value().Type()).Elem()
			ev.Set(iter.Value())
			redact(ev)
			v.SetMapIndex(iter.Key(), ev)
		}
	}
}

// redactURL hides the password of a URL; text that is no URL is hidden
// whole if it might hold one (an '@').
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if bytes.ContainsRune([]byte(s), '@') {
			return Redacted
		}
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Redacted)
		return u.String()
	}
	return s
}
