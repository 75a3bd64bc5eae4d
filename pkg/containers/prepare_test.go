package containers

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestPlanPrepare(t *testing.T) {
	const b = "/containers/onboot/000-x"
	tests := []struct {
		name     string
		root     string
		rt       Runtime
		hasLower bool
		want     []Step
	}{
		{name: "empty", root: "/", want: nil},
		{
			name: "writable container gets tmpfs and overlay", root: "/", hasLower: true,
			want: []Step{
				{Kind: StepMount, Path: b + "/tmp", Source: "tmpfs", FSType: "tmpfs", Data: "size=10%"},
				{Kind: StepMkdir, Path: b + "/tmp/upper"},
				{Kind: StepMkdir, Path: b + "/tmp/work"},
				{Kind: StepMount, Path: b + "/rootfs", Source: "overlay", FSType: "overlay",
					Data: "lowerdir=" + b + "/lower,upperdir=" + b + "/tmp/upper,workdir=" + b + "/tmp/work"},
			},
		},
		{
			name: "runtime mounts, mkdir, cgroups in LinuxKit order, paths in the tree", root: "/t",
			rt: Runtime{
				Mounts: []specs.Mount{
					{Destination: "/var/lib/docker", Type: "bind", Source: "/var/lib/x", Options: []string{"rbind", "rshared"}},
					{Destination: "etc/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "size=1m"}},
				},
				Mkdir:   []string{"/var/lib/y", "run/z"},
				Cgroups: []string{"podruntime/docker"},
			},
			want: []Step{
				{Kind: StepMkdir, Path: "/t/var/lib/docker"},
				{Kind: StepMount, Path: "/t/var/lib/docker", Source: "/t/var/lib/x", FSType: "bind",
					Flags: unix.MS_BIND | unix.MS_REC | unix.MS_SHARED},
				{Kind: StepMkdir, Path: b + "/rootfs/etc/x"},
				{Kind: StepMount, Path: b + "/rootfs/etc/x", Source: "tmpfs", FSType: "tmpfs", Flags: unix.MS_NOSUID, Data: "size=1m"},
				{Kind: StepMkdir, Path: "/t/var/lib/y"},
				{Kind: StepMkdir, Path: b + "/rootfs/run/z"},
				{Kind: StepCgroup, Path: "podruntime/docker"},
			},
		},
		{
			name: "LinuxKit-style overlay in runtime.json replaces the built-in one", root: "/", hasLower: true,
			rt: Runtime{Mounts: []specs.Mount{
				{Destination: b + "/tmp", Type: "tmpfs", Source: "tmpfs"},
				{Destination: b + "/rootfs", Type: "overlay", Source: "overlay",
					Options: []string{"lowerdir=" + b + "/lower", "upperdir=" + b + "/tmp/upper", "workdir=" + b + "/tmp/work"}},
			}},
			want: []Step{
				{Kind: StepMkdir, Path: b + "/tmp"},
				{Kind: StepMount, Path: b + "/tmp", Source: "tmpfs", FSType: "tmpfs"},
				{Kind: StepMkdir, Path: b + "/rootfs"},
				{Kind: StepMkdir, Path: b + "/tmp/upper"},
				{Kind: StepMkdir, Path: b + "/tmp/work"},
				{Kind: StepMount, Path: b + "/rootfs", Source: "overlay", FSType: "overlay",
					Data: "lowerdir=" + b + "/lower,upperdir=" + b + "/tmp/upper,workdir=" + b + "/tmp/work"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanPrepare(tt.root, b, tt.rt, tt.hasLower)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PlanPrepare() =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestParseMountOptions(t *testing.T) {
	tests := []struct {
		opts  []string
		flags uintptr
		data  string
	}{
		{nil, 0, ""},
		{[]string{"ro", "nosuid", "mode=755"}, unix.MS_RDONLY | unix.MS_NOSUID, "mode=755"},
		{[]string{"ro", "rw"}, 0, ""},
		{[]string{"rbind", "rprivate"}, unix.MS_BIND | unix.MS_REC | unix.MS_PRIVATE, ""},
		{[]string{"lowerdir=/a", "upperdir=/b"}, 0, "lowerdir=/a,upperdir=/b"},
	}
	for _, tt := range tests {
		f, d := ParseMountOptions(tt.opts)
		if f != tt.flags || d != tt.data {
			t.Errorf("ParseMountOptions(%q) = %#x, %q, want %#x, %q", tt.opts, f, d, tt.flags, tt.data)
		}
	}
}

func TestRuntimeNeedsProcess(t *testing.T) {
	if (Runtime{Mkdir: []string{"/x"}}).NeedsProcess() {
		t.Error("mkdir-only runtime NeedsProcess() = true, want false")
	}
	if !(Runtime{BindNS: Namespaces{Net: "/run/netns/x"}}).NeedsProcess() {
		t.Error("bindNS runtime NeedsProcess() = false, want true")
	}
	if !(Runtime{Interfaces: []Interface{{Name: "eth0"}}}).NeedsProcess() {
		t.Error("interfaces runtime NeedsProcess() = false, want true")
	}
}
