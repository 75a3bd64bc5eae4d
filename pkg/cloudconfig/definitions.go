package cloudconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ros-os/ros/pkg/buildfile"
	"gopkg.in/yaml.v3"
)

// decodeNode reads service definitions with the build-file reader, so they
// are checked exactly as a build file's services section is.
func (s *Definitions) decodeNode(d *decoder, n *yaml.Node, p path) (bool, error) {
	if n.Kind != yaml.SequenceNode {
		return true, d.errorf(n, p, "expected a sequence of service entries (name, image, …), got %s", kindName(n))
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "services"}, n,
	}}
	text, err := yaml.Marshal(doc)
	if err != nil {
		return true, d.errorf(n, p, "render service entries: %v", err)
	}
	bc, err := buildfile.Parse(d.source, text)
	if err != nil {
		var be *buildfile.Error
		if errors.As(err, &be) {
			return true, d.definitionError(n, p, be)
		}
		return true, fmt.Errorf("%s: %w", p, err)
	}
	*s = bc.Services
	return true, nil
}

var bfPathRE = regexp.MustCompile(`^services\[(\d+)\](?: "(?:[^"\\]|\\.)*")?(.*)$`)

// definitionError turns a build-file error about the re-rendered entries
// into one naming the key and line of the original document.
func (d *decoder) definitionError(n *yaml.Node, p path, be *buildfile.Error) *Error {
	m := bfPathRE.FindStringSubmatch(be.Path)
	if m == nil {
		return d.errorf(n, p, "%s", be.Msg)
	}
	i, _ := strconv.Atoi(m[1])
	if i >= len(n.Content) {
		return d.errorf(n, p, "%s", be.Msg)
	}
	at := deref(n.Content[i])
	sub := strings.TrimSpace(m[2])
	if found := findNode(at, sub); found != nil {
		at = found
	}
	ep := p.index(i)
	if sub != "" {
		if !strings.HasPrefix(sub, "[") {
			sub = "." + sub
		}
		ep += path(sub)
	}
	return d.errorf(at, ep, "%s", be.Msg)
}

var bfTokenRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\[\d+\]|[^.\s\[]+`)

// findNode follows a build-file path (binds[0], runtime.mounts[1] "x")
// from n, returning nil if it leads nowhere.
func findNode(n *yaml.Node, p string) *yaml.Node {
	for _, tok := range bfTokenRE.FindAllString(p, -1) {
		n = deref(n)
		switch {
		case strings.HasPrefix(tok, `"`):
			continue
		case strings.HasPrefix(tok, "["):
			i, _ := strconv.Atoi(tok[1 : len(tok)-1])
			if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			if n.Kind != yaml.MappingNode {
				return nil
			}
			var next *yaml.Node
			for j := 0; j+1 < len(n.Content); j += 2 {
				if strings.EqualFold(n.Content[j].Value, tok) {
					next = n.Content[j+1]
				}
			}
			if next == nil {
				return nil
			}
			n = next
		}
	}
	return deref(n)
}
