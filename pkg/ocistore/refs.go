package ocistore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
)

// Annotations used on the store's index.json descriptors and in exported
// archives. They follow containerd's exporter: the full name in
// io.containerd.image.name and the tag alone in org.opencontainers.image.ref.name.
const (
	AnnotationImageName = "io.containerd.image.name"
	AnnotationRefName   = "org.opencontainers.image.ref.name"
)

// CacheDir returns the ros download cache: $ROS_CACHE if set, else ~/.cache/ros.
func CacheDir() (string, error) {
	if d := os.Getenv("ROS_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find cache dir: %w", err)
	}
	return filepath.Join(home, ".cache", "ros"), nil
}

// DefaultDir returns the default store location, CacheDir()/oci.
func DefaultDir() (string, error) {
	c, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "oci"), nil
}

// Canonical returns the canonical form of an image reference, as Docker
// expands it: "ros/getty" -> "docker.io/ros/getty:latest",
// "alpine@sha256:..." -> "docker.io/library/alpine@sha256:...".
func Canonical(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("parse image reference %q: %w", ref, err)
	}
	return reference.TagNameOnly(named).String(), nil
}

// HasTagOrDigest reports whether ref names a tag or digest explicitly.
func HasTagOrDigest(ref string) bool {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return false
	}
	_, tagged := named.(reference.Tagged)
	_, digested := named.(reference.Digested)
	return tagged || digested
}

// Repository returns the canonical repository of ref without tag or digest
// ("ros/getty:abc" -> "docker.io/ros/getty").
func Repository(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("parse image reference %q: %w", ref, err)
	}
	return named.Name(), nil
}

// tagOf returns the tag or digest part of a canonical reference, used as
// org.opencontainers.image.ref.name.
func tagOf(canonical string) string {
	if i := strings.LastIndex(canonical, "@"); i >= 0 {
		return canonical[i+1:]
	}
	if i := strings.LastIndex(canonical, ":"); i > strings.LastIndex(canonical, "/") {
		return canonical[i+1:]
	}
	return ""
}

// digestOf returns the digest of a canonical digest reference, or "".
func digestOf(canonical string) string {
	if i := strings.LastIndex(canonical, "@"); i >= 0 {
		return canonical[i+1:]
	}
	return ""
}
