package assemble

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ros-os/ros/pkg/buildfile"
)

// volumesDir holds the volumes, as in LinuxKit.
const volumesDir = "containers/volumes"

// volumeDirs returns a volume's lower (its image), tmp (for the overlay's
// upper and work dirs) and merged (what containers bind) directories.
func volumeDirs(name string) (lower, tmp, merged string) {
	base := path.Join(volumesDir, name)
	return path.Join(base, "lower"), path.Join(base, "tmp"), path.Join(base, "merged")
}

// writeVolumes writes each volume's directories, with the image's
// filesystem in lower/ when it names one (LinuxKit's layout; the service
// runner mounts the overlay).
func (b *builder) writeVolumes(ctx context.Context) error {
	for i, v := range b.cfg.Volumes {
		where := "volumes[" + strconv.Itoa(i) + "] " + strconv.Quote(v.Name)
		lower, tmp, merged := volumeDirs(v.Name)
		if err := b.t.dir(lower, 0o755, 0, 0); err != nil {
			return entryErr(v.Pos(), where, err)
		}
		if v.Image != "" {
			img, err := b.image(ctx, v.Image)
			if err != nil {
				return entryErr(v.Pos(), where, err)
			}
			if err := writeImages(ctx, b.t, []v1.Image{img}, nil, lower, "", b.opts.ModTime, nil); err != nil {
				return entryErr(v.Pos(), where, fmt.Errorf("image %s: %w", v.Image, err))
			}
		}
		for _, d := range []string{tmp, merged} {
			if err := b.t.dir(d, 0o755, 0, 0); err != nil {
				return entryErr(v.Pos(), where, err)
			}
		}
	}
	return nil
}

// withVolumes returns e with the volume names used as bind or mount sources
// replaced by the volume's merged directory, as LinuxKit does. A source
// starting with / is a host path and stays. A read-only volume must be
// bound read-only.
func (b *builder) withVolumes(e *buildfile.Image) (*buildfile.Image, error) {
	out := *e
	vol := func(name string) (*buildfile.Volume, error) {
		for _, v := range b.cfg.Volumes {
			if v.Name == name {
				return v, nil
			}
		}
		return nil, fmt.Errorf("volume %q not found: a bind source is a path starting with / or a volume name", name)
	}
	binds := func(in *[]string) (*[]string, error) {
		if in == nil {
			return nil, nil
		}
		res := make([]string, 0, len(*in))
		for _, s := range *in {
			parts := strings.Split(s, ":")
			if strings.HasPrefix(parts[0], "/") || len(parts) < 2 {
				res = append(res, s)
				continue
			}
			v, err := vol(parts[0])
			if err != nil {
				return nil, fmt.Errorf("bind %q: %w", s, err)
			}
			if v.ReadOnly && (len(parts) < 3 || !hasOption(strings.Split(parts[2], ","), "ro")) {
				return nil, fmt.Errorf("bind %q: volume %s is read-only: bind it with the ro option", s, v.Name)
			}
			_, _, merged := volumeDirs(v.Name)
			parts[0] = "/" + merged
			res = append(res, strings.Join(parts, ":"))
		}
		return &res, nil
	}
	var err error
	if out.Binds, err = binds(e.Binds); err != nil {
		return nil, err
	}
	if out.BindsAdd, err = binds(e.BindsAdd); err != nil {
		return nil, err
	}
	if e.Mounts != nil {
		ms := append((*e.Mounts)[:0:0], *e.Mounts...)
		for i, m := range ms {
			if m.Type != "bind" || m.Source == "" || strings.HasPrefix(m.Source, "/") {
				continue
			}
			v, err := vol(m.Source)
			if err != nil {
				return nil, fmt.Errorf("mount %s: %w", m.Destination, err)
			}
			if v.ReadOnly && !readOnlyOptions(m.Options) {
				return nil, fmt.Errorf("mount %s: volume %s is read-only: mount it with the ro option", m.Destination, v.Name)
			}
			_, _, merged := volumeDirs(v.Name)
			ms[i].Source = "/" + merged
		}
		out.Mounts = &ms
	}
	return &out, nil
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// readOnlyOptions reports whether the first of rw and ro in opts is ro.
func readOnlyOptions(opts []string) bool {
	for _, o := range opts {
		switch o {
		case "rw":
			return false
		case "ro":
			return true
		}
	}
	return false
}

func bytesReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}
