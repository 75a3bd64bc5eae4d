package assemble

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/ocispec"
)

// entryName names an image entry in errors: `services[0] "getty"`.
func entryName(section string, i int, name string) string {
	return section + "[" + strconv.Itoa(i) + "] " + strconv.Quote(name)
}

// writeContainers writes the bundles of one section. onboot and onshutdown
// containers are numbered from 000 in order.
func (b *builder) writeContainers(ctx context.Context, section string, entries []*buildfile.Image) error {
	for i, e := range entries {
		dir := e.Name
		if section != "services" {
			dir = fmt.Sprintf("%03d-%s", i, e.Name)
		}
		if err := b.writeContainer(ctx, section, e, path.Join("containers", section, dir)); err != nil {
			return entryErr(e.Pos(), entryName(section, i, e.Name), err)
		}
	}
	return nil
}

// writeContainer writes one bundle at prefix: the image's filesystem,
// config.json and runtime.json, laid out as LinuxKit does.
func (b *builder) writeContainer(ctx context.Context, section string, e *buildfile.Image, prefix string) error {
	img, err := b.image(ctx, e.Image)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("image %s: read config: %w", e.Image, err)
	}
	var label buildfile.ImageConfig
	if s := cf.Config.Labels[buildfile.LabelKey]; s != "" {
		if label, err = buildfile.ParseLabel([]byte(s)); err != nil {
			return fmt.Errorf("image %s: %w", e.Image, err)
		}
	}
	entry, err := b.withVolumes(e)
	if err != nil {
		return err
	}
	ids := &imageIDs{containers: b.ids, img: img}
	spec, runtime, err := ocispec.ToOCI(entry, label, cf.Config, ids)
	if err != nil {
		return err
	}
	config, err := json.MarshalIndent(spec, "", "    ")
	if err != nil {
		return fmt.Errorf("encode config.json: %w", err)
	}
	readonly := spec.Root != nil && spec.Root.Readonly

	// A read-only container's filesystem is rootfs/; a writable one's is
	// lower/, under an overlay mounted at rootfs/ (LinuxKit's layout).
	root := path.Join(prefix, "rootfs")
	if !readonly {
		root = path.Join(prefix, "lower")
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("image %s: digest: %w", e.Image, err)
	}
	shared, dup := b.dedup[digest.String()]
	if dup && !b.opts.NoDedup {
		root = shared
		if err := b.t.dir(prefix, 0o755, 0, 0); err != nil {
			return err
		}
	} else {
		if err := b.t.dir(root, 0o755, 0, 0); err != nil {
			return err
		}
		if err := writeImages(ctx, b.t, []v1.Image{img}, nil, root, "", b.opts.ModTime, nil); err != nil {
			return fmt.Errorf("image %s: %w", e.Image, err)
		}
		b.dedup[digest.String()] = root
	}
	if err := b.t.file(path.Join(prefix, "config.json"), 0o644, 0, 0, config); err != nil {
		return err
	}

	var mounts []specs.Mount
	if !readonly {
		tmp := path.Join(prefix, "tmp")
		if err := b.t.dir(tmp, 0o755, 0, 0); err != nil {
			return err
		}
		if err := b.t.dir(path.Join(prefix, "rootfs"), 0o755, 0, 0); err != nil {
			return err
		}
		mounts = []specs.Mount{
			{Source: "tmpfs", Type: "tmpfs", Destination: "/" + tmp},
			// private, so nothing else sees the temporary layers
			{Destination: "/" + tmp, Options: []string{"remount", "private"}},
			{Source: "overlay", Type: "overlay", Destination: "/" + path.Join(prefix, "rootfs"), Options: []string{
				"lowerdir=/" + root, "upperdir=/" + path.Join(tmp, "upper"), "workdir=/" + path.Join(tmp, "work"),
			}},
		}
	} else {
		if dup && !b.opts.NoDedup {
			if err := b.t.dir(path.Join(prefix, "rootfs"), 0o755, 0, 0); err != nil {
				return err
			}
		}
		// bind from the shared copy, or onto itself: runc wants the root
		// to be a mount point
		mounts = []specs.Mount{{Source: "/" + root, Destination: "/" + path.Join(prefix, "rootfs"), Options: []string{"bind"}}}
	}
	if runtime.Mounts != nil {
		mounts = append(mounts, *runtime.Mounts...)
	}
	runtime.Mounts = &mounts
	rt, err := json.MarshalIndent(runtime, "", "    ")
	if err != nil {
		return fmt.Errorf("encode runtime.json: %w", err)
	}
	return b.t.file(path.Join(prefix, "runtime.json"), 0o644, 0, 0, rt)
}

// imageIDs resolves user and group names for a container: first the ids
// LinuxKit allocates to containers by name, then the image's /etc/passwd
// and /etc/group, read on first use.
type imageIDs struct {
	containers map[string]uint32
	img        v1.Image
	tables     *ocispec.IDMap
	err        error
}

func (r *imageIDs) UID(name string) (uint32, error) {
	if id, ok := r.containers[name]; ok {
		return id, nil
	}
	if err := r.load(); err != nil {
		return 0, err
	}
	return r.tables.UID(name)
}

func (r *imageIDs) GID(name string) (uint32, error) {
	if id, ok := r.containers[name]; ok {
		return id, nil
	}
	if err := r.load(); err != nil {
		return 0, err
	}
	return r.tables.GID(name)
}

// load reads etc/passwd and etc/group from the image's filesystem.
func (r *imageIDs) load() error {
	if r.tables != nil || r.err != nil {
		return r.err
	}
	rc := mutate.Extract(r.img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var passwd, group []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.err = fmt.Errorf("read image users: %w", err)
			return r.err
		}
		var dst *[]byte
		switch cleanName(h.Name) {
		case "etc/passwd":
			dst = &passwd
		case "etc/group":
			dst = &group
		default:
			continue
		}
		if *dst, err = io.ReadAll(tr); err != nil {
			r.err = fmt.Errorf("read image users: %w", err)
			return r.err
		}
	}
	m, err := ocispec.ReadIDMap(bytesReader(passwd), bytesReader(group))
	if err != nil {
		r.err = err
		return err
	}
	r.tables = &m
	return nil
}
