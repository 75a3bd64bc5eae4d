package cloudconfig

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// normalize reads the RancherOS interface key form "mac=…" into Match.
func normalize(c *Config) {
	for name, iface := range c.ROS.Network.Interfaces {
		if mac, ok := strings.CutPrefix(name, "mac="); ok && iface.Match.MAC == "" {
			iface.Match.MAC = mac
			c.ROS.Network.Interfaces[name] = iface
		}
	}
}

// parseNode parses one YAML document and returns its top-level mapping, or
// nil for an empty document.
func parseNode(source string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(source, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{Source: source, Line: extra.Line, Msg: "more than one YAML document; give one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(source, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Source: source, Line: root.Line, Msg: "expected a mapping at the top level, got " + kindName(root)}
	}
	return root, nil
}

// sortWarnings orders warnings by line within each source, sources in the
// order they first appear (the alias sections are decoded first).
func sortWarnings(ws Warnings) Warnings {
	first := map[string]int{}
	for i, w := range ws {
		if _, ok := first[w.Source]; !ok {
			first[w.Source] = i
		}
	}
	slices.SortStableFunc(ws, func(a, b Warning) int {
		if c := cmp.Compare(first[a.Source], first[b.Source]); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return ws
}

// lookup returns the key and value nodes of key in mapping n.
func lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	for _, kv := range pairs(n) {
		if kv.k.Value == key {
			return kv.k, kv.v
		}
	}
	return nil, nil
}
