package buildfile

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseValues(t *testing.T) {
	c := mustParse(t, "full.yml", `
kernel:
  image: ros/kernel
  cmdline: "console=ttyS0"
  tar: none
init:
  - ros/init
  - ros/containerd
onboot:
  - name: sysctl
    image: ros/sysctl
    capabilities: []
services:
  - name: sshd
    image: ros/sshd:abc
    capabilities.add: [CAP_NET_ADMIN]
    binds.add:
      - /root/.ssh:/root/.ssh
    env: []
    readonly: false
    uid: sshd
    gid: 100
    additionalGids: [wheel, 10]
    oomScoreAdj: -500
    sysctl:
      net.ipv4.ip_forward: "1"
    mounts:
      - type: cgroup
        options: ["rw"]
    uidMappings:
      - hostID: 1000
        containerID: 0
        size: 1
    resources:
      memory:
        limit: 1048576
      blockio:
        weight: 10
    devices:
      - path: /dev/kvm
        type: c
        major: 10
        minor: 232
        mode: "0666"
    runtime:
      mkdir: [/var/lib/x]
      interfaces:
        - name: eth1
          add: veth
          peer: veth1
          createInRoot: false
      bindNS:
        net: /run/netns/x
      namespace: ros
files:
  - path: etc/motd
    contents: |
      hello
    mode: "0644"
    uid: root
  - path: etc/dir
    directory: true
volumes:
  - name: data
    image: alpine
    readonly: true
trust:
  org: [linuxkit]
`)
	if c.Kernel.Image != "ros/kernel" || c.Kernel.Cmdline != "console=ttyS0" || c.Kernel.Tar == nil || *c.Kernel.Tar != "none" || c.Kernel.UCode != nil {
		t.Errorf("Kernel = %+v", c.Kernel)
	}
	if got := c.Kernel.Pos().String(); got != "full.yml:3" {
		t.Errorf("Kernel.Pos() = %s, want full.yml:3", got)
	}
	if !reflect.DeepEqual(c.Init, []string{"ros/init", "ros/containerd"}) {
		t.Errorf("Init = %v", c.Init)
	}
	if got := c.InitPos(1).String(); got != "full.yml:8" {
		t.Errorf("InitPos(1) = %s, want full.yml:8", got)
	}
	sys := c.Onboot[0]
	if sys.Capabilities == nil || len(*sys.Capabilities) != 0 {
		t.Errorf("onboot capabilities = %v, want set and empty", sys.Capabilities)
	}
	if sys.Env != nil {
		t.Errorf("onboot env = %v, want unset", sys.Env)
	}
	s := c.Services[0]
	if got := s.Pos().String(); got != "full.yml:14" {
		t.Errorf("services[0].Pos() = %s, want full.yml:14", got)
	}
	if s.Env == nil || len(*s.Env) != 0 {
		t.Errorf("env = %v, want set and empty", s.Env)
	}
	if s.Readonly == nil || *s.Readonly {
		t.Errorf("readonly = %v, want set false", s.Readonly)
	}
	if *s.UID != (ID{Name: "sshd"}) || *s.GID != (ID{Num: 100}) {
		t.Errorf("uid, gid = %v, %v", s.UID, s.GID)
	}
	if want := []ID{{Name: "wheel"}, {Num: 10}}; !reflect.DeepEqual(*s.AdditionalGids, want) {
		t.Errorf("additionalGids = %v, want %v", *s.AdditionalGids, want)
	}
	if *s.OOMScoreAdj != -500 {
		t.Errorf("oomScoreAdj = %d", *s.OOMScoreAdj)
	}
	if (*s.Sysctl)["net.ipv4.ip_forward"] != "1" {
		t.Errorf("sysctl = %v", *s.Sysctl)
	}
	if want := []specs.Mount{{Type: "cgroup", Options: []string{"rw"}}}; !reflect.DeepEqual(*s.Mounts, want) {
		t.Errorf("mounts = %+v, want %+v", *s.Mounts, want)
	}
	if want := []specs.LinuxIDMapping{{HostID: 1000, ContainerID: 0, Size: 1}}; !reflect.DeepEqual(*s.UIDMappings, want) {
		t.Errorf("uidMappings = %+v, want %+v", *s.UIDMappings, want)
	}
	if *s.Resources.Memory.Limit != 1048576 || *s.Resources.BlockIO.Weight != 10 {
		t.Errorf("resources = %+v", s.Resources)
	}
	if want := (Device{Path: "/dev/kvm", Type: "c", Major: 10, Minor: 232, Mode: "0666"}); (*s.Devices)[0] != want {
		t.Errorf("devices = %+v", *s.Devices)
	}
	r := s.Runtime
	if (*r.Mkdir)[0] != "/var/lib/x" || *r.BindNS.Net != "/run/netns/x" || r.BindNS.Pid != nil || *r.Namespace != "ros" {
		t.Errorf("runtime = %+v", r)
	}
	if want := (Interface{Name: "eth1", Add: "veth", Peer: "veth1"}); (*r.Interfaces)[0] != want {
		t.Errorf("interfaces = %+v", *r.Interfaces)
	}
	f := c.Files[0]
	if *f.Contents != "hello\n" || f.Mode != "0644" || *f.UID != (ID{Name: "root"}) || f.GID != nil {
		t.Errorf("files[0] = %+v", f)
	}
	if f.Pos().String() != "full.yml:56" {
		t.Errorf("files[0].Pos() = %s, want full.yml:56", f.Pos())
	}
	if !c.Files[1].Directory || c.Files[1].Kind() != FileDirectory {
		t.Errorf("files[1] = %+v", c.Files[1])
	}
	if v := c.Volumes[0]; v.Name != "data" || v.Image != "alpine" || !v.ReadOnly {
		t.Errorf("volumes[0] = %+v", v)
	}
	if c.Trust == nil || c.Trust.Org[0] != "linuxkit" {
		t.Errorf("trust = %+v", c.Trust)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "\n", "# only a comment\n", "---\n"} {
		c, err := Parse("e.yml", []byte(src))
		if err != nil || c == nil || len(c.Services) != 0 {
			t.Errorf("Parse(%q) = %+v, %v, want an empty config", src, c, err)
		}
	}
}

func TestParseAnchors(t *testing.T) {
	c := mustParse(t, "a.yml", `
services:
  - &base
    name: a
    image: ros/a
    env: [X=1]
  - <<: *base
    name: b
`)
	b := c.Services[1]
	if b.Name != "b" || b.Image != "ros/a" || (*b.Env)[0] != "X=1" {
		t.Errorf("merged entry = %+v", b)
	}
}

func TestParseTemplate(t *testing.T) {
	c := mustParse(t, "/src/ros.yml", "init:\n  - \"@pkg:./pkg/init\"\nservices:\n  - name: a\n    image: \"@pkg:../a\"\n")
	var dirs []string
	err := ResolveTemplates(c, func(dir string) (string, error) {
		dirs = append(dirs, dir)
		return "ros/x:1", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/src/pkg/init", "/a"}; !reflect.DeepEqual(dirs, want) {
		t.Errorf("resolved folders = %v, want %v", dirs, want)
	}
	if c.Init[0] != "ros/x:1" || c.Services[0].Image != "ros/x:1" {
		t.Errorf("after ResolveTemplates: init %v, image %s", c.Init, c.Services[0].Image)
	}
}

func TestParseLabel(t *testing.T) {
	tests := []struct {
		name, label string
		check       func(ImageConfig) bool
		wantErr     string
	}{
		{name: "json", label: `{"capabilities":["CAP_SYS_ADMIN"],"binds":["/dev:/dev"],"net":"host","uid":0}`,
			check: func(c ImageConfig) bool {
				return (*c.Capabilities)[0] == "CAP_SYS_ADMIN" && (*c.Binds)[0] == "/dev:/dev" && c.Net == "host" && *c.UID == ID{}
			}},
		{name: "json with tabs", label: "{\n\t\"pid\": \"host\",\n\t\"readonly\": true\n}",
			check: func(c ImageConfig) bool { return c.Pid == "host" && *c.Readonly }},
		{name: "yaml", label: "capabilities:\n  - all\nrootfsPropagation: shared\n",
			check: func(c ImageConfig) bool { return (*c.Capabilities)[0] == "all" && *c.RootfsPropagation == "shared" }},
		{name: "empty", label: "", check: func(c ImageConfig) bool { return c.Capabilities == nil }},
		{name: "name", label: `{"name":"x"}`, wantErr: `org.mobyproject.config label:1: name cannot be set in the org.mobyproject.config label`},
		{name: "image", label: `{"image":"x"}`, wantErr: `org.mobyproject.config label:1: image cannot be set in the org.mobyproject.config label`},
		{name: "unknown", label: `{"capabilites":[]}`, wantErr: `org.mobyproject.config label:1: unknown key "capabilites" (did you mean "capabilities"?)`},
		{name: "array", label: `[1]`, wantErr: `org.mobyproject.config label:1: expected a mapping at the top level, got a sequence`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseLabel([]byte(tt.label))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("ParseLabel(%s) error = %v, want %s", tt.label, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLabel(%s) = %v", tt.label, err)
			}
			if !tt.check(c) {
				t.Errorf("ParseLabel(%s) = %+v", tt.label, c)
			}
		})
	}
}

func TestCanonicalRef(t *testing.T) {
	tests := []struct{ in, want, familiar string }{
		{"alpine", "docker.io/library/alpine", "alpine"},
		{"alpine:3.20", "docker.io/library/alpine:3.20", "alpine:3.20"},
		{"ros/getty", "docker.io/ros/getty", "ros/getty"},
		{"linuxkit/getty:a86d74c8", "docker.io/linuxkit/getty:a86d74c8", "linuxkit/getty:a86d74c8"},
		{"docker.io/library/alpine", "docker.io/library/alpine", "alpine"},
		{"ghcr.io/a/b:1", "ghcr.io/a/b:1", "ghcr.io/a/b:1"},
		{"localhost:5000/x", "localhost:5000/x", "localhost:5000/x"},
		{"@pkg:./pkg/init", "@pkg:./pkg/init", "@pkg:./pkg/init"},
	}
	for _, tt := range tests {
		got, err := CanonicalRef(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalRef(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
		fam, err := FamiliarRef(got)
		if err != nil || fam != tt.familiar {
			t.Errorf("FamiliarRef(%q) = %q, %v, want %q", got, fam, err, tt.familiar)
		}
	}
	if _, err := CanonicalRef("UPPER"); err == nil {
		t.Errorf("CanonicalRef(UPPER) = nil error, want one")
	}
}
