package ocistore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ComponentRepo is the repository prefix of ros component images; the recipe
// for docker.io/ros/<name> is images/<name>/.
const ComponentRepo = "docker.io/ros/"

// MissingError says an image is neither in the store nor obtainable, and
// how to get it. errors.Is(err, ErrNotFound) holds for it.
type MissingError struct {
	Ref     string // canonical reference
	Dir     string // store directory
	Offline bool   // the resolver was not allowed to pull
	Err     error  // the pull error, if a pull was tried
}

func (e *MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "image %s is not in the local store %s", e.Ref, e.Dir)
	if e.Offline {
		b.WriteString(" and pulling is off (offline)")
	} else if e.Err != nil {
		fmt.Fprintf(&b, " and pulling it failed: %v", e.Err)
	}
	b.WriteString("; ")
	if n, ok := ComponentName(e.Ref); ok {
		fmt.Fprintf(&b, "build it with `ros image build images/%s` or ", n)
	}
	b.WriteString("import it with `ros cache import FILE` (an OCI archive or a docker save tarball)")
	return b.String()
}

// Unwrap makes errors.Is(err, ErrNotFound) true, and exposes the pull error.
func (e *MissingError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrNotFound, e.Err}
	}
	return []error{ErrNotFound}
}

// ComponentName returns NAME when ref is a ros component image
// (ros/NAME, docker.io/ros/NAME[:tag|@digest]).
func ComponentName(ref string) (string, bool) {
	repo, err := Repository(ref)
	if err != nil || !strings.HasPrefix(repo, ComponentRepo) {
		return "", false
	}
	n := strings.TrimPrefix(repo, ComponentRepo)
	if n == "" || strings.Contains(n, "/") {
		return "", false
	}
	return n, true
}

// Resolver finds images: first in the store, then (unless Offline) in their
// registry, storing what it pulls.
type Resolver struct {
	Store    *Store
	Offline  bool
	Keychain authn.Keychain // nil: authn.DefaultKeychain
	Platform *v1.Platform   // nil: linux/amd64
}

// Resolve returns the image for ref. When it is missing and cannot be
// pulled the error is a *MissingError.
func (r *Resolver) Resolve(ctx context.Context, ref string) (v1.Image, error) {
	canonical, err := Canonical(ref)
	if err != nil {
		return nil, err
	}
	img, err := r.Store.Image(ctx, canonical)
	if err == nil {
		return img, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if r.Offline {
		return nil, &MissingError{Ref: canonical, Dir: r.Store.Dir(), Offline: true}
	}
	img, err = r.pull(ctx, canonical)
	if err != nil {
		return nil, &MissingError{Ref: canonical, Dir: r.Store.Dir(), Err: err}
	}
	if err := r.Store.Put(ctx, canonical, img); err != nil {
		return nil, fmt.Errorf("store pulled image %s: %w", canonical, err)
	}
	return r.Store.Image(ctx, canonical)
}

func (r *Resolver) pull(ctx context.Context, canonical string) (v1.Image, error) {
	nref, err := name.ParseReference(canonical)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", canonical, err)
	}
	kc := r.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	p := v1.Platform{OS: "linux", Architecture: "amd64"}
	if r.Platform != nil {
		p = *r.Platform
	}
	img, err := remote.Image(nref, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithPlatform(p))
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", canonical, err)
	}
	return img, nil
}
