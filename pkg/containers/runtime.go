// Package containers runs LinuxKit-layout container bundles
// (/containers/{onboot,onshutdown,services}/<name>/ with config.json,
// runtime.json and rootfs/): runtime.json preparation and one-shot runs
// with runc. It does not link the containerd client, so that PID 1 (which
// runs onshutdown bundles) stays small; package tasks runs bundles as
// containerd tasks.
package containers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Runtime is LinuxKit's runtime.json: what is done around a container at
// run time rather than written into its OCI spec.
type Runtime struct {
	Cgroups    []string      `json:"cgroups,omitempty"`
	Mounts     []specs.Mount `json:"mounts,omitempty"`
	Mkdir      []string      `json:"mkdir,omitempty"`
	Interfaces []Interface   `json:"interfaces,omitempty"`
	BindNS     Namespaces    `json:"bindNS,omitempty"`
	Namespace  string        `json:"namespace,omitempty"`
}

// Namespaces names paths where a container's namespaces are bind-mounted.
type Namespaces struct {
	Cgroup string `json:"cgroup,omitempty"`
	Ipc    string `json:"ipc,omitempty"`
	Mnt    string `json:"mnt,omitempty"`
	Net    string `json:"net,omitempty"`
	Pid    string `json:"pid,omitempty"`
	User   string `json:"user,omitempty"`
	Uts    string `json:"uts,omitempty"`
}

// Interface is a network interface created or moved into the container.
type Interface struct {
	Name         string `json:"name,omitempty"`
	Add          string `json:"add,omitempty"`
	Peer         string `json:"peer,omitempty"`
	CreateInRoot bool   `json:"createInRoot"`
}

// NeedsProcess reports whether rt has work that needs the container's pid
// before it runs (interfaces, namespace binds).
func (rt Runtime) NeedsProcess() bool {
	return len(rt.Interfaces) > 0 || rt.BindNS != (Namespaces{})
}

// Bundle is one container directory of the assembled tree.
type Bundle struct {
	Name string // directory name, e.g. 000-sysctl or getty
	Path string // absolute path of the directory
}

// ID is the container ID: the name without the onboot order prefix is not
// unique enough, so the directory name is used as is.
func (b Bundle) ID() string { return b.Name }

// ListBundles returns the bundles under dir sorted by name (the onboot
// order); a missing dir is an empty list.
func ListBundles(dir string) ([]Bundle, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list bundles in %s: %w", dir, err)
	}
	var out []Bundle
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		out = append(out, Bundle{Name: e.Name(), Path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReadRuntime reads bundle/runtime.json; a missing file is an empty Runtime.
func ReadRuntime(bundle string) (Runtime, error) {
	var rt Runtime
	p := filepath.Join(bundle, "runtime.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return rt, nil
	}
	if err != nil {
		return rt, fmt.Errorf("read %s: %w", p, err)
	}
	if err := json.Unmarshal(b, &rt); err != nil {
		return rt, fmt.Errorf("parse %s: %w", p, err)
	}
	return rt, nil
}

// ReadSpec reads bundle/config.json and points its root at bundle/rootfs
// (absolute), as containerd needs when no snapshot backs the container.
func ReadSpec(bundle string) (*specs.Spec, error) {
	p := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", p, err)
	}
	if s.Root == nil {
		s.Root = &specs.Root{}
	}
	s.Root.Path = filepath.Join(bundle, "rootfs")
	return &s, nil
}
