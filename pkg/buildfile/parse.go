package buildfile

import (
	"bytes"
	"errors"
	"io"
	"reflect"

	"gopkg.in/yaml.v3"
)

// LabelKey is the image label that carries an ImageConfig, as in LinuxKit.
const LabelKey = "org.mobyproject.config"

// Parse reads one build file. filename is used in error messages and is the
// base for relative `source:` paths of the files section. Decoding is strict:
// unknown keys, values of the wrong kind and repeated keys are errors, and
// so are the checks LinuxKit makes (duplicate service names, files with two
// content sources, bad modes, bad image references …). Every error is an
// *Error naming the file, the line and the key.
func Parse(filename string, data []byte) (*Config, error) {
	root, err := parseNode(filename, data)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	if root == nil {
		return c, nil
	}
	d := &decoder{file: filename}
	if err := d.decode(root, reflect.ValueOf(c).Elem(), ""); err != nil {
		return nil, err
	}
	if _, v := mapValue(root, "init"); v != nil {
		for _, item := range v.Content {
			c.initPos = append(c.initPos, Pos{File: filename, Line: item.Line})
		}
	}
	if err := validate(c, root, filename); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseLabel reads an org.mobyproject.config label, written in JSON or YAML,
// as strictly as a build file. name and image may not be set there.
func ParseLabel(data []byte) (ImageConfig, error) {
	const file = LabelKey + " label"
	root, err := parseNode(file, data)
	if err != nil {
		return ImageConfig{}, err
	}
	if root == nil {
		return ImageConfig{}, nil
	}
	var img Image
	d := &decoder{file: file}
	if err := d.decode(root, reflect.ValueOf(&img).Elem(), ""); err != nil {
		return ImageConfig{}, err
	}
	if k, _ := mapValue(root, "name"); k != nil {
		return ImageConfig{}, d.errorf(k, "", "name cannot be set in the %s label", LabelKey)
	}
	if k, _ := mapValue(root, "image"); k != nil {
		return ImageConfig{}, d.errorf(k, "", "image cannot be set in the %s label", LabelKey)
	}
	v := &validator{file: file}
	v.imageConfig(&img.ImageConfig, root, "")
	if v.err != nil {
		return ImageConfig{}, v.err
	}
	return img.ImageConfig, nil
}

// parseNode parses YAML into a node tree and returns the top-level mapping,
// or nil for an empty document.
func parseNode(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document; give one per file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Msg: "expected a mapping at the top level, got " + kindName(root)}
	}
	return root, nil
}

// mapValue returns the key and value nodes of key in mapping n.
func mapValue(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil {
		return nil, nil
	}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i].ShortTag() != "!!merge" {
			return n.Content[i], deref(n.Content[i+1])
		}
	}
	// a key brought in by a merge key (<<: *anchor)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].ShortTag() == "!!merge" {
			m := deref(n.Content[i+1])
			srcs := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				srcs = m.Content
			}
			for _, s := range srcs {
				if k, v := mapValue(s, key); k != nil {
					return k, v
				}
			}
		}
	}
	return nil, nil
}

// item returns the i-th element of sequence n, or n itself when it has none.
func item(n *yaml.Node, i int) *yaml.Node {
	if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return deref(n.Content[i])
	}
	return n
}
