package rosd

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"gopkg.in/yaml.v3"

	"github.com/ros-os/ros/pkg/assemble"
	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/ocistore"
)

// parseServiceDefinition reads one service in the LinuxKit image-entry
// format, as strictly as a build file's services section. A whole build
// file with exactly one service is accepted too.
func parseServiceDefinition(source string, def []byte) (*buildfile.Image, error) {
	var probe map[string]any
	if err := yaml.Unmarshal(def, &probe); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	doc := def
	if _, whole := probe["services"]; !whole {
		// Read the entry as item 0 of a services section.
		var b strings.Builder
		b.WriteString("services:\n")
		for i, line := range strings.Split(strings.TrimRight(string(def), "\n"), "\n") {
			if i == 0 {
				b.WriteString("  - " + line + "\n")
			} else {
				b.WriteString("    " + line + "\n")
			}
		}
		doc = []byte(b.String())
	}
	cfg, err := buildfile.Parse(source, doc)
	if err != nil {
		return nil, err
	}
	if len(cfg.Services) != 1 || cfg.Kernel.Image != "" || len(cfg.Init) > 0 || len(cfg.Onboot) > 0 {
		return nil, fmt.Errorf("%s: want one service entry (name, image, …), got %d services", source, len(cfg.Services))
	}
	return cfg.Services[0], nil
}

// resolverSource serves images to assemble through a Resolver.
type resolverSource struct{ r *ocistore.Resolver }

func (s resolverSource) Image(ctx context.Context, ref string) (v1.Image, error) {
	return s.r.Resolve(ctx, ref)
}

// installService writes the bundle of an added service under addedDir:
// the image (imported from archive first when given, else from the local
// image store or its registry) unpacked as rootfs, with config.json and
// runtime.json made exactly as a build makes them. An existing bundle of
// the same name is replaced only once the new one is complete.
func (d *daemon) installService(ctx context.Context, entry *buildfile.Image, archive string) error {
	store, err := ocistore.Open(filepath.Join(d.opts.DataDir, "images"))
	if err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	if archive != "" {
		refs, err := store.Import(ctx, archive)
		if err != nil {
			return fmt.Errorf("import %s: %w", archive, err)
		}
		d.log.Info("imported images", "archive", archive, "refs", refs)
	}
	src := resolverSource{&ocistore.Resolver{Store: store}}
	tmp, err := os.MkdirTemp(d.addedDir(), ".install-"+entry.Name+"-")
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(d.addedDir(), 0o755); err == nil {
			tmp, err = os.MkdirTemp(d.addedDir(), ".install-"+entry.Name+"-")
		}
	}
	if err != nil {
		return fmt.Errorf("install %s: %w", entry.Name, err)
	}
	defer os.RemoveAll(tmp)
	pr, pw := io.Pipe()
	built := make(chan error, 1)
	go func() {
		err := assemble.Build(ctx, &buildfile.Config{Services: []*buildfile.Image{entry}}, src, pw, assemble.Options{TempDir: tmp})
		pw.CloseWithError(err)
		built <- err
	}()
	prefix := "containers/services/" + entry.Name + "/"
	bundle := filepath.Join(tmp, "bundle")
	if err := extractPrefix(pr, prefix, bundle); err != nil {
		pr.CloseWithError(err)
		<-built
		return fmt.Errorf("install %s: %w", entry.Name, err)
	}
	if err := <-built; err != nil {
		return fmt.Errorf("install %s: %w", entry.Name, err)
	}
	dst := filepath.Join(d.addedDir(), entry.Name)
	if err := relocateRuntime(bundle, "/"+prefix, d.opts.Root, dst); err != nil {
		return fmt.Errorf("install %s: %w", entry.Name, err)
	}
	old := filepath.Join(tmp, "old")
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("install %s: %w", entry.Name, err)
	}
	if err := os.Rename(bundle, dst); err != nil {
		return fmt.Errorf("install %s: %w", entry.Name, err)
	}
	return nil
}

// relocateRuntime rewrites the paths of a bundle's runtime.json, made for
// from (/containers/services/NAME/ of an image), to the bundle's place dst;
// they are paths of the tree mounted at root.
func relocateRuntime(bundle, from, root, dst string) error {
	rel, err := filepath.Rel(root, dst)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("bundle %s is not under the root %s", dst, root)
	}
	p := filepath.Join(bundle, "runtime.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	b = []byte(strings.ReplaceAll(string(b), from, "/"+rel+"/"))
	return os.WriteFile(p, b, 0o644) //nolint:gosec // G703: p is the runtime.json assemble.Build just wrote into rosd's own temp dir
}

// extractPrefix writes the entries of a tar stream under prefix to dir,
// keeping modes and owners; the rest of the stream is read and dropped.
func extractPrefix(r io.Reader, prefix, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(h.Name, "./")
		if !strings.HasPrefix(name+"/", prefix) {
			continue
		}
		target, err := inBundle(dir, prefix, name)
		if err != nil {
			return err
		}
		if h.Typeflag == tar.TypeLink {
			src, err := inBundle(dir, prefix, strings.TrimPrefix(h.Linkname, "./"))
			if err != nil {
				return err
			}
			_ = os.Remove(target)
			if err := os.Link(src, target); err != nil {
				return fmt.Errorf("extract %s: %w", h.Name, err)
			}
			continue
		}
		if err := writeEntry(tr, h, target); err != nil {
			return fmt.Errorf("extract %s: %w", h.Name, err)
		}
	}
}

// inBundle maps a tar path under prefix to its place under dir.
func inBundle(dir, prefix, name string) (string, error) {
	rel := strings.TrimSuffix(strings.TrimPrefix(name+"/", prefix), "/")
	target := filepath.Join(dir, rel)
	if !strings.HasPrefix(name+"/", prefix) || (target != dir && !strings.HasPrefix(target, dir+"/")) {
		return "", fmt.Errorf("tar entry %q is outside %s", name, prefix)
	}
	return target, nil
}

func writeEntry(r io.Reader, h *tar.Header, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(h.Mode & 0o777)
	if h.Mode&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if h.Mode&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if h.Mode&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	case tar.TypeReg:
		_ = os.Remove(target)
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	case tar.TypeSymlink:
		_ = os.Remove(target)
		return os.Symlink(h.Linkname, target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return nil // devices come from the runtime, not the image
	default:
		return nil
	}
	if err := os.Lchown(target, h.Uid, h.Gid); err != nil && !errors.Is(err, os.ErrPermission) {
		return err
	}
	return os.Chmod(target, mode)
}

// installDefinitions installs the services ros.services.definitions
// defines that are not installed yet (their image from the local image
// store or its registry). A failure is reported and the boot goes on.
func (d *daemon) installDefinitions(ctx context.Context, defs []*buildfile.Image) {
	for _, e := range defs {
		if _, err := os.Stat(filepath.Join(d.addedDir(), e.Name, "config.json")); err == nil {
			continue
		}
		if err := d.installService(ctx, e, ""); err != nil {
			d.log.Error("cloud-config service", "service", e.Name, "err", err)
			d.console("ros: cloud-config service %s: %v", e.Name, err)
			continue
		}
		d.record(ctx, "service", e.Name, "added by cloud-config (image "+e.Image+")")
	}
}
