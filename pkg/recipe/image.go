package recipe

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/ros-os/ros/pkg/layer"
)

// MobyConfigLabel is the LinuxKit image-config label.
const MobyConfigLabel = "org.mobyproject.config"

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// makeImage writes the tree as one gzip layer under work and returns a
// single-layer OCI image whose config carries only recipe data and epoch.
func makeImage(t *layer.Tree, r *Recipe, name string, epoch time.Time, work string) (v1.Image, error) {
	lp := filepath.Join(work, "layer.tar.gz")
	f, err := os.Create(lp)
	if err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return nil, err
	}
	werr := t.WriteTar(zw, epoch)
	if cerr := zw.Close(); werr == nil {
		werr = cerr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("write layer: %w", werr)
	}
	l, err := tarball.LayerFromFile(lp, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("read layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     l,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "ros image build images/" + name},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: epoch}
	env := append([]string(nil), r.Env...)
	hasPath := false
	for _, e := range env {
		hasPath = hasPath || strings.HasPrefix(e, "PATH=")
	}
	if !hasPath {
		env = append([]string{defaultPath}, env...)
	}
	cf.Config = v1.Config{
		Entrypoint: r.Entrypoint,
		Cmd:        r.Cmd,
		Env:        env,
		WorkingDir: r.Workdir,
		Labels:     map[string]string{},
	}
	for k, v := range r.Labels {
		cf.Config.Labels[k] = v
	}
	if r.Config != nil {
		b, err := json.Marshal(r.Config)
		if err != nil {
			return nil, fmt.Errorf("encode %s label: %w", MobyConfigLabel, err)
		}
		cf.Config.Labels[MobyConfigLabel] = string(b)
	}
	if len(cf.Config.Labels) == 0 {
		cf.Config.Labels = nil
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set image config: %w", err)
	}
	return img, nil
}
