package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSmallDeps keeps PID 1 small: it must not link the libraries whose
// package initialisation made a PID 1 built from the ros binary hold
// 6.1 to 6.8 MiB of anonymous memory (this program holds 1.3 to 1.8 MiB).
func TestSmallDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v: %s", err, out)
	}
	heavy := []string{
		"github.com/containerd/containerd",
		"google.golang.org/grpc",
		"google.golang.org/protobuf",
		"github.com/canonical/go-dqlite",
		"github.com/spf13/cobra",
		"github.com/ros-os/ros/os/cli",
		"github.com/ros-os/ros/os/rosd",
	}
	reported := map[string]bool{}
	for _, dep := range strings.Fields(string(out)) {
		for _, h := range heavy {
			if (dep == h || strings.HasPrefix(dep, h+"/")) && !reported[h] {
				reported[h] = true
				t.Errorf("ros-init links %s (%s)", h, dep)
			}
		}
	}
}
