package cloudconfig

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// The types here accept the shorter spellings cloud-init allows besides
// their canonical form, and render back in a form Parse reads.

// nodeDecoder is implemented by types with a spelling of their own. It
// returns handled=false to let the generic decoder read n.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, p path) (handled bool, err error)
}

// StringList is a list of strings that may be written as one string.
type StringList []string

func (l *StringList) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, nil
	}
	*l = StringList{n.Value}
	return true, nil
}

// CommaList is a list of strings that may be written as one string of
// comma-separated items ("wheel, docker").
type CommaList []string

func (l *CommaList) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, nil
	}
	var out CommaList
	for _, s := range strings.Split(n.Value, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	*l = out
	return true, nil
}

// SudoRules are sudoers rules: a string, a list of strings, or false.
type SudoRules []string

func (s *SudoRules) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, nil
	}
	if n.ShortTag() == "!!bool" {
		if n.Value == "false" || n.Value == "False" || n.Value == "FALSE" {
			*s = SudoRules{}
			return true, nil
		}
		return true, d.errorf(n, p, "expected a sudoers rule, a list of them or false, got %q", n.Value)
	}
	*s = SudoRules{n.Value}
	return true, nil
}

// Command is an entry of runcmd or bootcmd: a string run by /bin/sh -c, or
// a list of arguments run directly.
type Command struct {
	Shell string   `json:"shell,omitempty"`
	Argv  []string `json:"argv,omitempty"`
}

func (c *Command) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		*c = Command{Shell: n.Value}
		return true, nil
	case yaml.SequenceNode:
		argv, err := d.scalars(n, p, "a command string or a list of arguments")
		*c = Command{Argv: argv}
		return true, err
	}
	return true, d.errorf(n, p, "expected a command string or a list of arguments, got %s", kindName(n))
}

// MarshalYAML renders a command as it is written.
func (c Command) MarshalYAML() (any, error) {
	if c.Argv != nil {
		return c.Argv, nil
	}
	return c.Shell, nil
}

// Mount is an entry of mounts, as cloud-init writes it: the fields of an
// fstab line [device, dir, type, options, dump, pass], the last four optional.
type Mount []string

func (m *Mount) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.SequenceNode {
		return true, d.errorf(n, p, "expected a list of fstab fields [device, dir, type, options, dump, pass], got %s", kindName(n))
	}
	fields, err := d.scalars(n, p, "fstab fields")
	*m = fields
	return true, err
}

// Scalar is a value given as any YAML scalar (1, true, "x"), kept as text:
// sysctl values, environment values, resolver options.
type Scalar string

func (s *Scalar) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return true, d.errorf(n, p, "expected a single value, got %s", kindName(n))
	}
	*s = Scalar(n.Value)
	return true, nil
}

// Permissions is an octal file mode as written ("0644"). An unquoted 0644
// is read as written, not as the number YAML makes of it.
type Permissions string

func (m *Permissions) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return true, d.errorf(n, p, "expected an octal mode such as \"0644\", got %s", kindName(n))
	}
	*m = Permissions(n.Value)
	return true, nil
}

// ManageEtcHosts is true, false, "template" or "localhost" (cloud-init's
// values), kept as text; "" means not set.
type ManageEtcHosts string

func (m *ManageEtcHosts) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return true, d.errorf(n, p, "expected true, false, \"template\" or \"localhost\", got %s", kindName(n))
	}
	v := n.Value
	if n.ShortTag() == "!!bool" {
		v = strings.ToLower(v)
	}
	*m = ManageEtcHosts(v)
	return true, nil
}

// MarshalYAML renders true and false as booleans.
func (m ManageEtcHosts) MarshalYAML() (any, error) {
	switch m {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return string(m), nil
}

func (e *Engine) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, nil
	}
	*e = Engine{Name: n.Value}
	return true, nil
}

func (u *User) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, nil
	}
	*u = User{Name: n.Value}
	return true, nil
}

// scalars reads a sequence of scalars of any kind as strings.
func (d *decoder) scalars(n *yaml.Node, p path, what string) ([]string, error) {
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		item = deref(item)
		if item.Kind != yaml.ScalarNode {
			return nil, d.errorf(item, p.index(i), "expected a single value in %s, got %s", what, kindName(item))
		}
		out = append(out, item.Value)
	}
	return out, nil
}
