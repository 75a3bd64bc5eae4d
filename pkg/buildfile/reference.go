package buildfile

import (
	"fmt"

	"github.com/distribution/reference"
)

// CanonicalRef expands an image reference as Docker does, without adding a
// tag: "alpine" becomes "docker.io/library/alpine", "ros/getty" becomes
// "docker.io/ros/getty", "ros/getty:abc" keeps its tag, and a reference with
// a registry host ("localhost:5000/x", "ghcr.io/a/b") keeps it.
//
// A "@pkg:" template (see IsTemplate) is returned unchanged.
func CanonicalRef(ref string) (string, error) {
	if IsTemplate(ref) {
		return ref, nil
	}
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	return n.String(), nil
}

// FamiliarRef is the short form of a reference: "docker.io/library/alpine"
// becomes "alpine", "docker.io/ros/getty:1" becomes "ros/getty:1".
func FamiliarRef(ref string) (string, error) {
	if IsTemplate(ref) {
		return ref, nil
	}
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	return reference.FamiliarString(n), nil
}
