package buildfile

import (
	"encoding/json"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// ID is a user or group, given by number (uid: 100) or by name (uid: sshd).
// A name is resolved against the image's /etc/passwd or /etc/group when the
// container is built.
type ID struct {
	// Num is the number when Name is empty.
	Num uint32
	// Name is the user or group name, empty when given by number.
	Name string
}

// IsName reports whether the ID was given by name.
func (id ID) IsName() bool { return id.Name != "" }

// String returns the number or the name.
func (id ID) String() string {
	if id.Name != "" {
		return id.Name
	}
	return strconv.FormatUint(uint64(id.Num), 10)
}

// parseID reads a number or a name.
func parseID(s string) (ID, error) {
	if s == "" {
		return ID{}, fmt.Errorf("expected a number or a name, got an empty string")
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return ID{Num: uint32(n)}, nil
	}
	if s[0] >= '0' && s[0] <= '9' || s[0] == '-' {
		return ID{}, fmt.Errorf("expected a number from 0 to 4294967295 or a name, got %q", s)
	}
	return ID{Name: s}, nil
}

// UnmarshalYAML reads a scalar number or name.
func (id *ID) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a number or a name, got %s", kindName(n))
	}
	v, err := parseID(n.Value)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// MarshalYAML writes a number as an integer and a name as a string.
func (id ID) MarshalYAML() (any, error) {
	if id.Name != "" {
		return id.Name, nil
	}
	return id.Num, nil
}

// UnmarshalJSON reads a number or a string.
func (id *ID) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		if x < 0 || x > 4294967295 || x != float64(uint32(x)) {
			return fmt.Errorf("expected a number from 0 to 4294967295 or a name, got %v", x)
		}
		*id = ID{Num: uint32(x)}
		return nil
	case string:
		p, err := parseID(x)
		if err != nil {
			return err
		}
		*id = p
		return nil
	}
	return fmt.Errorf("expected a number or a name, got %s", b)
}

// MarshalJSON writes a number or a string.
func (id ID) MarshalJSON() ([]byte, error) {
	if id.Name != "" {
		return json.Marshal(id.Name)
	}
	return json.Marshal(id.Num)
}

func itoa(i int) string { return strconv.Itoa(i) }

// kindName names a node's kind for error messages: "a string", "a sequence".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!str":
		return "a string"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return "a value tagged " + n.ShortTag()
}
