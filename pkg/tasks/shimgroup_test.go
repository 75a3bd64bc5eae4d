package tasks

import (
	"maps"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithShimGroup(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want map[string]string
	}{
		{"no annotations", nil, map[string]string{ShimGroupAnnotation: "g"}},
		{"others kept", map[string]string{"a": "b"}, map[string]string{"a": "b", ShimGroupAnnotation: "g"}},
		{"own group kept", map[string]string{ShimGroupAnnotation: "mine"}, map[string]string{ShimGroupAnnotation: "mine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &specs.Spec{Annotations: tt.in}
			withShimGroup(s, "g")
			if !maps.Equal(s.Annotations, tt.want) {
				t.Errorf("annotations %v, want %v", s.Annotations, tt.want)
			}
		})
	}
}
