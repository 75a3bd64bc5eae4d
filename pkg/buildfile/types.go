package buildfile

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Config is one build file, or several merged with Merge.
type Config struct {
	Kernel     Kernel    `yaml:"kernel,omitempty" json:"kernel,omitempty"`
	Init       []string  `yaml:"init,omitempty" json:"init,omitempty"`
	Onboot     []*Image  `yaml:"onboot,omitempty" json:"onboot,omitempty"`
	Onshutdown []*Image  `yaml:"onshutdown,omitempty" json:"onshutdown,omitempty"`
	Services   []*Image  `yaml:"services,omitempty" json:"services,omitempty"`
	Trust      *Trust    `yaml:"trust,omitempty" json:"trust,omitempty"`
	Files      []File    `yaml:"files,omitempty" json:"files,omitempty"`
	Volumes    []*Volume `yaml:"volumes,omitempty" json:"volumes,omitempty"`

	// initPos holds the position of each Init entry, index for index.
	initPos []Pos
}

// Kernel is the kernel section: the kernel image and its command line.
type Kernel struct {
	Image   string  `yaml:"image,omitempty" json:"image,omitempty"`
	Cmdline string  `yaml:"cmdline,omitempty" json:"cmdline,omitempty"`
	Binary  string  `yaml:"binary,omitempty" json:"binary,omitempty"`
	Tar     *string `yaml:"tar,omitempty" json:"tar,omitempty"`
	UCode   *string `yaml:"ucode,omitempty" json:"ucode,omitempty"`

	pos Pos
}

// Image is an entry of onboot, onshutdown or services: a named container
// built from an image, with the runtime options of ImageConfig.
type Image struct {
	Name        string `yaml:"name" json:"name" schema:"required"`
	Image       string `yaml:"image" json:"image" schema:"required"`
	ImageConfig `yaml:",inline"`

	pos Pos
}

// ImageConfig is the part of an image entry that may also appear in an
// image's org.mobyproject.config label. Everything but Runtime builds the
// OCI runtime spec; Runtime is applied by the service runner.
type ImageConfig struct {
	Capabilities      *[]string               `yaml:"capabilities,omitempty" json:"capabilities,omitempty"`
	CapabilitiesAdd   *[]string               `yaml:"capabilities.add,omitempty" json:"capabilities.add,omitempty"`
	Ambient           *[]string               `yaml:"ambient,omitempty" json:"ambient,omitempty"`
	Mounts            *[]specs.Mount          `yaml:"mounts,omitempty" json:"mounts,omitempty"`
	Binds             *[]string               `yaml:"binds,omitempty" json:"binds,omitempty"`
	BindsAdd          *[]string               `yaml:"binds.add,omitempty" json:"binds.add,omitempty"`
	Devices           *[]Device               `yaml:"devices,omitempty" json:"devices,omitempty"`
	Tmpfs             *[]string               `yaml:"tmpfs,omitempty" json:"tmpfs,omitempty"`
	Command           *[]string               `yaml:"command,omitempty" json:"command,omitempty"`
	Env               *[]string               `yaml:"env,omitempty" json:"env,omitempty"`
	Cwd               string                  `yaml:"cwd,omitempty" json:"cwd,omitempty"`
	Net               string                  `yaml:"net,omitempty" json:"net,omitempty"`
	Pid               string                  `yaml:"pid,omitempty" json:"pid,omitempty"`
	Ipc               string                  `yaml:"ipc,omitempty" json:"ipc,omitempty"`
	Uts               string                  `yaml:"uts,omitempty" json:"uts,omitempty"`
	Userns            string                  `yaml:"userns,omitempty" json:"userns,omitempty"`
	Hostname          string                  `yaml:"hostname,omitempty" json:"hostname,omitempty"`
	Readonly          *bool                   `yaml:"readonly,omitempty" json:"readonly,omitempty"`
	MaskedPaths       *[]string               `yaml:"maskedPaths,omitempty" json:"maskedPaths,omitempty"`
	ReadonlyPaths     *[]string               `yaml:"readonlyPaths,omitempty" json:"readonlyPaths,omitempty"`
	UID               *ID                     `yaml:"uid,omitempty" json:"uid,omitempty"`
	GID               *ID                     `yaml:"gid,omitempty" json:"gid,omitempty"`
	AdditionalGids    *[]ID                   `yaml:"additionalGids,omitempty" json:"additionalGids,omitempty"`
	NoNewPrivileges   *bool                   `yaml:"noNewPrivileges,omitempty" json:"noNewPrivileges,omitempty"`
	OOMScoreAdj       *int                    `yaml:"oomScoreAdj,omitempty" json:"oomScoreAdj,omitempty"`
	RootfsPropagation *string                 `yaml:"rootfsPropagation,omitempty" json:"rootfsPropagation,omitempty"`
	CgroupsPath       *string                 `yaml:"cgroupsPath,omitempty" json:"cgroupsPath,omitempty"`
	Resources         *specs.LinuxResources   `yaml:"resources,omitempty" json:"resources,omitempty"`
	Sysctl            *map[string]string      `yaml:"sysctl,omitempty" json:"sysctl,omitempty"`
	Rlimits           *[]string               `yaml:"rlimits,omitempty" json:"rlimits,omitempty"`
	UIDMappings       *[]specs.LinuxIDMapping `yaml:"uidMappings,omitempty" json:"uidMappings,omitempty"`
	GIDMappings       *[]specs.LinuxIDMapping `yaml:"gidMappings,omitempty" json:"gidMappings,omitempty"`
	Annotations       *map[string]string      `yaml:"annotations,omitempty" json:"annotations,omitempty"`

	Runtime *Runtime `yaml:"runtime,omitempty" json:"runtime,omitempty"`
}

// Device is a device node made available to a container.
type Device struct {
	Path  string `yaml:"path" json:"path"`
	Type  string `yaml:"type" json:"type"`
	Major int64  `yaml:"major" json:"major"`
	Minor int64  `yaml:"minor" json:"minor"`
	Mode  string `yaml:"mode,omitempty" json:"mode,omitempty"`
}

// Runtime is the part of an image's config applied when the container is
// started (by the service runner), not written into the OCI spec. It is
// stored as runtime.json beside config.json.
type Runtime struct {
	Cgroups    *[]string      `yaml:"cgroups,omitempty" json:"cgroups,omitempty"`
	Mounts     *[]specs.Mount `yaml:"mounts,omitempty" json:"mounts,omitempty"`
	Mkdir      *[]string      `yaml:"mkdir,omitempty" json:"mkdir,omitempty"`
	Interfaces *[]Interface   `yaml:"interfaces,omitempty" json:"interfaces,omitempty"`
	BindNS     Namespaces     `yaml:"bindNS,omitempty" json:"bindNS,omitempty"`
	Namespace  *string        `yaml:"namespace,omitempty" json:"namespace,omitempty"`
}

// Namespaces names paths where a container's namespaces are bind-mounted,
// so that other containers can join them.
type Namespaces struct {
	Cgroup *string `yaml:"cgroup,omitempty" json:"cgroup,omitempty"`
	Ipc    *string `yaml:"ipc,omitempty" json:"ipc,omitempty"`
	Mnt    *string `yaml:"mnt,omitempty" json:"mnt,omitempty"`
	Net    *string `yaml:"net,omitempty" json:"net,omitempty"`
	Pid    *string `yaml:"pid,omitempty" json:"pid,omitempty"`
	User   *string `yaml:"user,omitempty" json:"user,omitempty"`
	Uts    *string `yaml:"uts,omitempty" json:"uts,omitempty"`
}

// Interface is a network interface created or moved into a container's
// network namespace before it starts.
type Interface struct {
	Name         string `yaml:"name,omitempty" json:"name,omitempty"`
	Add          string `yaml:"add,omitempty" json:"add,omitempty"`
	Peer         string `yaml:"peer,omitempty" json:"peer,omitempty"`
	CreateInRoot bool   `yaml:"createInRoot" json:"createInRoot"`
}

// File is an entry of the files section: a file, directory or symlink
// added to the root filesystem.
type File struct {
	Path      string  `yaml:"path" json:"path" schema:"required"`
	Directory bool    `yaml:"directory,omitempty" json:"directory,omitempty"`
	Symlink   string  `yaml:"symlink,omitempty" json:"symlink,omitempty"`
	Contents  *string `yaml:"contents,omitempty" json:"contents,omitempty"`
	Source    string  `yaml:"source,omitempty" json:"source,omitempty"`
	Metadata  string  `yaml:"metadata,omitempty" json:"metadata,omitempty"`
	Optional  bool    `yaml:"optional,omitempty" json:"optional,omitempty"`
	Mode      string  `yaml:"mode,omitempty" json:"mode,omitempty"`
	UID       *ID     `yaml:"uid,omitempty" json:"uid,omitempty"`
	GID       *ID     `yaml:"gid,omitempty" json:"gid,omitempty"`

	pos Pos
}

// Volume is an entry of the volumes section: a named volume, empty or
// filled from an image, that containers may bind.
type Volume struct {
	Name      string   `yaml:"name" json:"name" schema:"required"`
	Image     string   `yaml:"image,omitempty" json:"image,omitempty"`
	ReadOnly  bool     `yaml:"readonly,omitempty" json:"readonly,omitempty"`
	Format    string   `yaml:"format,omitempty" json:"format,omitempty"`
	Platforms []string `yaml:"platforms,omitempty" json:"platforms,omitempty"`

	pos Pos
}

// Trust is LinuxKit's old content-trust section. It is accepted so that old
// files still read, and ignored.
type Trust struct {
	Image []string `yaml:"image,omitempty" json:"image,omitempty"`
	Org   []string `yaml:"org,omitempty" json:"org,omitempty"`
}

// Pos is where an entry was written: the build file and the line.
type Pos struct {
	File string
	Line int
}

// String returns "file:line", or "" for an entry that was not read from a file.
func (p Pos) String() string {
	if p.File == "" {
		return ""
	}
	return p.File + ":" + itoa(p.Line)
}

// Pos returns where the kernel section was written.
func (k Kernel) Pos() Pos { return k.pos }

// Pos returns where the image entry was written.
func (i *Image) Pos() Pos { return i.pos }

// Pos returns where the file entry was written.
func (f File) Pos() Pos { return f.pos }

// Pos returns where the volume entry was written.
func (v *Volume) Pos() Pos { return v.pos }

// InitPos returns where the i-th init entry was written.
func (c *Config) InitPos(i int) Pos {
	if i < 0 || i >= len(c.initPos) {
		return Pos{}
	}
	return c.initPos[i]
}
