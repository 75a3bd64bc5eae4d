package osbuild

import (
	"context"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ros-os/ros/pkg/ocistore"
	"github.com/ros-os/ros/pkg/recipe"
)

// Source gives a build its images. A ros component image without a tag or
// digest (ros/getty) whose recipe is in ImagesDir is built from it when the
// store lacks the recipe's current content tag; anything else goes to the
// Resolver (the store, then a registry).
type Source struct {
	ImagesDir string
	Store     *ocistore.Store
	Resolver  *ocistore.Resolver
	Recipe    recipe.Options

	mu    sync.Mutex
	built map[string]string // recipe dir -> store reference, once per build
}

// Image implements assemble.ImageSource.
func (s *Source) Image(ctx context.Context, ref string) (v1.Image, error) {
	if s.ImagesDir != "" && !ocistore.HasTagOrDigest(ref) {
		if dir, ok := recipe.DirFor(s.ImagesDir, ref); ok {
			storeRef, err := s.build(ctx, dir)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", ref, err)
			}
			return s.Store.Image(ctx, storeRef)
		}
	}
	return s.Resolver.Resolve(ctx, ref)
}

func (s *Source) build(ctx context.Context, dir string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, ok := s.built[dir]; ok {
		return ref, nil
	}
	ref, _, err := recipe.Build(ctx, dir, s.Store, s.Recipe)
	if err != nil {
		return "", err
	}
	if s.built == nil {
		s.built = map[string]string{}
	}
	s.built[dir] = ref
	return ref, nil
}
