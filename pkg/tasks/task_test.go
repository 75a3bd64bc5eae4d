package tasks

import (
	"testing"

	containerd "github.com/containerd/containerd"
)

func TestReconcile(t *testing.T) {
	tests := []struct {
		has    bool
		status containerd.ProcessStatus
		want   Adoption
	}{
		{false, "", Create},
		{true, containerd.Running, Adopt},
		{true, containerd.Paused, Adopt},
		{true, containerd.Stopped, Replace},
		{true, containerd.Created, Replace},
		{true, "", Replace},
	}
	for _, tt := range tests {
		if got := Reconcile(tt.has, tt.status); got != tt.want {
			t.Errorf("Reconcile(%v, %q) = %v, want %v", tt.has, tt.status, got, tt.want)
		}
	}
}
