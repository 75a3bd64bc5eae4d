package cloudconfig

import (
	"encoding/base64"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/ros-os/ros/pkg/cmdline"
	"gopkg.in/yaml.v3"
)

// KernelConfig is what the kernel command line says about configuration.
type KernelConfig struct {
	// Config holds the ros.* (and rancher.*, k3os.*) keys, each value read
	// as YAML: ros.network.dns.nameservers=[1.1.1.1,8.8.8.8] ros.hostname=box.
	Config *Config
	// URL is ros.config.url (or rancher.config.url): user-data to fetch.
	URL string
	// UserData is ros.config.b64, base64-decoded: user-data to Parse.
	UserData []byte
}

// CmdlineSource names the kernel command line in errors and warnings.
const CmdlineSource = "cmdline"

// bootParams are ros.* parameters read by the initrd, not configuration.
var bootParams = map[string]bool{"slot": true, "live": true, "debug": true, "rootwait": true}

// flatMaps are the alias-section keys whose map keys hold dots (sysctl names).
var flatMaps = map[string]bool{"sysctl": true, "environment": true}

// FromCmdline builds a config fragment from kernel parameters. A key of the
// ros: section is written ros.KEY (ros.network.dns.search=[lan]); a
// top-level cloud-config key is written ros.KEY too (ros.hostname=box);
// rancher.KEY and k3os.KEY are read through the alias tables. A parameter
// without a value is true. A later parameter replaces an earlier one.
// Unknown keys are warnings; bad values are errors, as for Parse.
func FromCmdline(params []cmdline.Param) (*KernelConfig, Warnings, error) {
	kc := &KernelConfig{}
	p := &parser{maxDepth: DefaultMaxDepth}
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, prm := range params {
		prefix, rest, ok := strings.Cut(prm.Key, ".")
		if !ok || (prefix != "ros" && prefix != "rancher" && prefix != "k3os") || rest == "" {
			continue
		}
		switch {
		case rest == "config.url" && prefix != "k3os":
			kc.URL = prm.Value
			continue
		case rest == "config.b64" && prefix != "k3os":
			data, err := decodeB64(prm.Value)
			if err != nil {
				return nil, p.warn, &Error{Source: CmdlineSource, Path: prm.Key, Msg: "not base64: " + err.Error()}
			}
			kc.UserData = data
			continue
		case prefix == "ros" && bootParams[rest]:
			continue
		}
		if !utf8.ValidString(prm.Key + prm.Value) {
			// YAML cannot write it back, so it could never be exported.
			return nil, p.warn, &Error{Source: CmdlineSource, Path: strings.ToValidUTF8(prm.Key, "\uFFFD"), Msg: "not valid UTF-8"}
		}
		v := valueNode(prm)
		keys := strings.Split(rest, ".")
		if prefix == "ros" {
			var ok bool
			if keys, ok = typedKeys(keys); !ok {
				p.warn = append(p.warn, Warning{Source: CmdlineSource, Path: prm.Key, Msg: "unknown key, ignored"})
				continue
			}
		} else if len(keys) > 2 && flatMaps[keys[0]] {
			keys = []string{prefix, keys[0], strings.Join(keys[1:], ".")}
		} else {
			keys = append([]string{prefix}, keys...)
		}
		place(root, keys, v)
	}
	c, err := p.decodeDocument(CmdlineSource, root)
	p.warn = sortWarnings(p.warn)
	if err != nil {
		return nil, p.warn, err
	}
	if err := c.Validate(); err != nil {
		return nil, p.warn, err
	}
	kc.Config = c
	return kc, p.warn, nil
}

func decodeB64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// valueNode reads a parameter's value as YAML; text YAML cannot read is a
// string. Lines are cleared: they would mean nothing on a command line.
func valueNode(prm cmdline.Param) *yaml.Node {
	if !prm.HasValue {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(prm.Value), &doc); err != nil || len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: prm.Value}
	}
	n := doc.Content[0]
	clearLines(n)
	return n
}

func clearLines(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		clearLines(c)
	}
}

// typedKeys turns the dotted key after ros. into document keys, following
// the Go types: a key of the ros: section goes under "ros", a top-level
// key stays at the top, and the key of a map whose values are plain
// (sysctl, environment, engine.daemon) keeps its dots.
func typedKeys(segs []string) ([]string, bool) {
	t := reflect.TypeFor[Config]()
	keys := []string{}
	if _, ok := lookupField(reflect.TypeFor[ROS](), segs[0]); ok {
		t = reflect.TypeFor[ROS]()
		keys = append(keys, "ros")
	} else if segs[0] == "ros" {
		return nil, false
	}
	for i := 0; i < len(segs); i++ {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := lookupField(t, segs[i])
			if !ok {
				return nil, false
			}
			keys = append(keys, segs[i])
			t = t.Field(f.index).Type
		case reflect.Map:
			e := t.Elem()
			for e.Kind() == reflect.Pointer {
				e = e.Elem()
			}
			if e.Kind() == reflect.Struct || e.Kind() == reflect.Map {
				keys = append(keys, segs[i])
				t = e
				continue
			}
			return append(keys, strings.Join(segs[i:], ".")), true
		default:
			return nil, false // a list or a value has no sub-keys
		}
	}
	return keys, true
}
