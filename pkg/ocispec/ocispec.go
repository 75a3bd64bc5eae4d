// Package ocispec turns an image entry of a build file into an OCI runtime
// spec (config.json) and a runtime config (runtime.json), as LinuxKit's
// ConfigToOCI does.
//
// Three sources are combined. Precedence, highest first: the YAML entry,
// then the image's org.mobyproject.config label, then the image config.
//
//   - command: YAML command, else label command, else the image's
//     Entrypoint followed by its Cmd.
//   - env: YAML env, else label env, else the image's Env; a list replaces
//     the one below it wholesale, it is never merged.
//   - cwd: YAML cwd, else label cwd, else the image's WorkingDir, else "/".
//   - capabilities: YAML capabilities replace everything; otherwise the
//     label's capabilities followed by the YAML capabilities.add, without
//     repeats. Default: none. A list of the single word "all" means every
//     capability, "none" means none. Bounding, permitted and inheritable
//     sets are the sorted union of these and the ambient capabilities.
//   - binds: YAML binds replace everything; otherwise the label's binds
//     followed by the YAML binds.add, without repeats. A bind is
//     "src:dst[:opts]"; without options it is mounted rw,rbind,rshared.
//   - every other option (ambient, mounts, tmpfs, devices, net, pid, ipc,
//     uts, userns, hostname, readonly, maskedPaths, readonlyPaths, uid, gid,
//     additionalGids, noNewPrivileges, oomScoreAdj, rootfsPropagation,
//     cgroupsPath, resources, sysctl, rlimits, uidMappings, gidMappings,
//     annotations, and each runtime key): the YAML value if set, else the
//     label's, else the default.
//
// Defaults: uid and gid 0; a read-write root at "rootfs"; the mounts /proc,
// /dev (tmpfs), /dev/pts, /sys and /sys/fs/cgroup (read-only), with /dev
// and /sys read-only too when the root is. As in LinuxKit there is no
// default /dev/shm or /dev/mqueue: an entry adds them with tmpfs or mounts.
// New pid, mount and cgroup namespaces; net, ipc, uts and user shared with
// the host. A namespace value "host" or "root" shares the host's, "new"
// (and for net "none") makes a new one, anything else is a path to join.
// Mounts are applied defaults, then tmpfs, then binds, then mounts, a later
// one replacing an earlier one with the same destination, and are listed
// sorted by destination, so a parent always precedes what is below it.
package ocispec

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ros-os/ros/pkg/buildfile"
)

// SpecVersion is the ociVersion of the specs ros writes. They use nothing
// newer than runtime-spec 1.1, and Debian 12's crun (1.8), which runs the
// services, refuses 1.2 and later ("unknown version specified").
const SpecVersion = "1.1.0"

// FromImage is ToOCI with the label read from the image config's
// org.mobyproject.config label.
func FromImage(entry *buildfile.Image, img v1.Config, ids IDResolver) (*specs.Spec, buildfile.Runtime, error) {
	var label buildfile.ImageConfig
	if s := img.Labels[buildfile.LabelKey]; s != "" {
		var err error
		if label, err = buildfile.ParseLabel([]byte(s)); err != nil {
			return nil, buildfile.Runtime{}, fmt.Errorf("image %s: %w", entry.Image, err)
		}
	}
	return ToOCI(entry, label, img, ids)
}

// ToOCI makes the OCI runtime spec and the runtime config of entry, whose
// image has the label config label and the image config img. ids resolves
// user and group names (may be nil when none are used). See the package
// documentation for the precedence rules and defaults.
func ToOCI(entry *buildfile.Image, label buildfile.ImageConfig, img v1.Config, ids IDResolver) (*specs.Spec, buildfile.Runtime, error) {
	y := &entry.ImageConfig
	l := &label
	fail := func(err error) (*specs.Spec, buildfile.Runtime, error) {
		return nil, buildfile.Runtime{}, fmt.Errorf("%s: %w", entry.Name, err)
	}

	args := pick3(slices.Concat(img.Entrypoint, img.Cmd), l.Command, y.Command)
	env := pick3(img.Env, l.Env, y.Env)
	cwd := firstNonEmpty(y.Cwd, l.Cwd, img.WorkingDir, "/")
	readonly := pickBool(l.Readonly, y.Readonly)

	mounts, err := makeMounts(l, y, readonly)
	if err != nil {
		return fail(err)
	}
	namespaces := makeNamespaces(l, y)

	caps, err := buildfile.ExpandCapabilities(pick(mergeLists(l.Capabilities, y.CapabilitiesAdd), y.Capabilities))
	if err != nil {
		return fail(err)
	}
	ambient, err := buildfile.ExpandCapabilities(pick(l.Ambient, y.Ambient))
	if err != nil {
		return fail(fmt.Errorf("ambient: %w", err))
	}
	bounding := slices.Concat(caps, ambient)
	slices.Sort(bounding)
	bounding = slices.Compact(bounding)

	var rlimits []specs.POSIXRlimit
	for _, s := range pick(l.Rlimits, y.Rlimits) {
		r, err := buildfile.ParseRlimit(s)
		if err != nil {
			return fail(err)
		}
		rlimits = append(rlimits, r)
	}

	var uidLookup, gidLookup func(string) (uint32, error)
	if ids != nil {
		uidLookup, gidLookup = ids.UID, ids.GID
	}
	uid, err := resolveID(pickPtr(l.UID, y.UID), uidLookup)
	if err != nil {
		return fail(fmt.Errorf("uid: %w", err))
	}
	gid, err := resolveID(pickPtr(l.GID, y.GID), gidLookup)
	if err != nil {
		return fail(fmt.Errorf("gid: %w", err))
	}
	var additional []uint32
	for _, g := range pick(l.AdditionalGids, y.AdditionalGids) {
		n, err := resolveID(&g, gidLookup)
		if err != nil {
			return fail(fmt.Errorf("additionalGids: %w", err))
		}
		additional = append(additional, n)
	}

	resources := specs.LinuxResources{}
	if r := pickPtr(l.Resources, y.Resources); r != nil {
		resources = *r
	}
	var devices []specs.LinuxDevice
	for _, d := range pick(l.Devices, y.Devices) {
		if d.Path == "all" {
			// a whole class of devices in the device cgroup allow list
			resources.Devices = append(resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Access: "rwm"})
			continue
		}
		mode, err := strconv.ParseUint(d.Mode, 8, 32)
		if err != nil {
			return fail(fmt.Errorf("device %s: mode %q: expected an octal mode", d.Path, d.Mode))
		}
		fm := os.FileMode(mode)
		ld := specs.LinuxDevice{Path: d.Path, Type: d.Type, Major: d.Major, Minor: d.Minor, FileMode: &fm}
		devices = append(devices, ld)
		resources.Devices = append(resources.Devices, specs.LinuxDeviceCgroup{
			Allow: true, Type: ld.Type, Major: &ld.Major, Minor: &ld.Minor, Access: "rwm",
		})
	}

	spec := &specs.Spec{
		Version: SpecVersion,
		Process: &specs.Process{
			User: specs.User{UID: uid, GID: gid, AdditionalGids: additional},
			Args: args,
			Env:  env,
			Cwd:  cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:    bounding,
				Effective:   caps,
				Inheritable: bounding,
				Permitted:   bounding,
				Ambient:     ambient,
			},
			Rlimits:         rlimits,
			NoNewPrivileges: pickBool(l.NoNewPrivileges, y.NoNewPrivileges),
			OOMScoreAdj:     pickPtr(l.OOMScoreAdj, y.OOMScoreAdj),
		},
		Root:        &specs.Root{Path: "rootfs", Readonly: readonly},
		Hostname:    firstNonEmpty(y.Hostname, l.Hostname),
		Mounts:      mounts,
		Annotations: pickMap(l.Annotations, y.Annotations),
		Linux: &specs.Linux{
			UIDMappings:       pick(l.UIDMappings, y.UIDMappings),
			GIDMappings:       pick(l.GIDMappings, y.GIDMappings),
			Sysctl:            pickMap(l.Sysctl, y.Sysctl),
			Resources:         &resources,
			CgroupsPath:       deref(pickPtr(l.CgroupsPath, y.CgroupsPath)),
			Namespaces:        namespaces,
			Devices:           devices,
			RootfsPropagation: deref(pickPtr(l.RootfsPropagation, y.RootfsPropagation)),
			MaskedPaths:       pick(l.MaskedPaths, y.MaskedPaths),
			ReadonlyPaths:     pick(l.ReadonlyPaths, y.ReadonlyPaths),
		},
	}
	return spec, makeRuntime(l.Runtime, y.Runtime), nil
}

// makeMounts builds the mount list: defaults, tmpfs, binds, mounts.
func makeMounts(l, y *buildfile.ImageConfig, readonly bool) ([]specs.Mount, error) {
	// default options as Docker sets them
	devOpts := []string{"nosuid", "strictatime", "mode=755", "size=65536k"}
	sysOpts := []string{"nosuid", "noexec", "nodev"}
	if readonly {
		devOpts = append(devOpts, "ro")
		sysOpts = append(sysOpts, "ro")
	}
	byDest := map[string]specs.Mount{}
	for _, m := range []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "nodev", "noexec", "relatime"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: devOpts},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: sysOpts},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	} {
		byDest[m.Destination] = m
	}
	for _, s := range pick(l.Tmpfs, y.Tmpfs) {
		m, err := buildfile.ParseTmpfs(s)
		if err != nil {
			return nil, err
		}
		byDest[m.Destination] = m
	}
	for _, s := range pick(mergeLists(l.Binds, y.BindsAdd), y.Binds) {
		m, err := buildfile.ParseBind(s)
		if err != nil {
			return nil, err
		}
		byDest[m.Destination] = m
	}
	for _, m := range pick(l.Mounts, y.Mounts) {
		m, err := buildfile.ResolveMount(m)
		if err != nil {
			return nil, err
		}
		byDest[m.Destination] = specs.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: m.Options}
	}
	list := make([]specs.Mount, 0, len(byDest))
	for _, m := range byDest {
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b specs.Mount) int { return cmp.Compare(a.Destination, b.Destination) })
	return list, nil
}

// makeNamespaces lists the namespaces in LinuxKit's order: net, ipc, uts,
// pid, user, then always a new mount and a new cgroup namespace.
func makeNamespaces(l, y *buildfile.ImageConfig) []specs.LinuxNamespace {
	var ns []specs.LinuxNamespace
	add := func(t specs.LinuxNamespaceType, v string, newWords ...string) {
		if v == "host" || v == "root" {
			return
		}
		if slices.Contains(newWords, v) {
			v = ""
		}
		ns = append(ns, specs.LinuxNamespace{Type: t, Path: v})
	}
	add(specs.NetworkNamespace, firstNonEmpty(y.Net, l.Net, "root"), "new", "none")
	add(specs.IPCNamespace, firstNonEmpty(y.Ipc, l.Ipc, "root"), "new")
	add(specs.UTSNamespace, firstNonEmpty(y.Uts, l.Uts, "root"), "new")
	add(specs.PIDNamespace, firstNonEmpty(y.Pid, l.Pid, ""), "new", "")
	add(specs.UserNamespace, firstNonEmpty(y.Userns, l.Userns, "root"), "new")
	ns = append(ns, specs.LinuxNamespace{Type: specs.MountNamespace}, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	return ns
}

// makeRuntime picks each runtime key from the YAML, else the label, and
// fills what neither sets with empty values, as LinuxKit writes runtime.json.
func makeRuntime(l, y *buildfile.Runtime) buildfile.Runtime {
	if l == nil {
		l = &buildfile.Runtime{}
	}
	if y == nil {
		y = &buildfile.Runtime{}
	}
	str := func(a, b *string) *string {
		s := deref(pickPtr(a, b))
		return &s
	}
	cgroups := pick(l.Cgroups, y.Cgroups)
	mounts := pick(l.Mounts, y.Mounts)
	mkdir := pick(l.Mkdir, y.Mkdir)
	ifaces := pick(l.Interfaces, y.Interfaces)
	return buildfile.Runtime{
		Cgroups:    &cgroups,
		Mounts:     &mounts,
		Mkdir:      &mkdir,
		Interfaces: &ifaces,
		BindNS: buildfile.Namespaces{
			Cgroup: str(l.BindNS.Cgroup, y.BindNS.Cgroup),
			Ipc:    str(l.BindNS.Ipc, y.BindNS.Ipc),
			Mnt:    str(l.BindNS.Mnt, y.BindNS.Mnt),
			Net:    str(l.BindNS.Net, y.BindNS.Net),
			Pid:    str(l.BindNS.Pid, y.BindNS.Pid),
			User:   str(l.BindNS.User, y.BindNS.User),
			Uts:    str(l.BindNS.Uts, y.BindNS.Uts),
		},
		Namespace: str(l.Namespace, y.Namespace),
	}
}
