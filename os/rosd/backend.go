package rosd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/buildfile"
	"github.com/ros-os/ros/pkg/containers"
)

// backend serves the API from the running daemon.
type backend struct {
	d      *daemon
	m      *manager
	client *containerd.Client
	cfg    *configState
	images map[string]string // image services' images, from the build's metadata
}

var _ api.Backend = (*backend)(nil)

func (b *backend) System(ctx context.Context) (*api.System, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("hostname: %w", err)
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return nil, fmt.Errorf("sysinfo: %w", err)
	}
	up := time.Duration(si.Uptime) * time.Second
	return &api.System{Version: b.d.opts.Version, Hostname: host, Uptime: up, BootedAt: time.Now().Add(-up).Truncate(time.Second)}, nil
}

// toAPI turns a status into the API's; pids maps running services to
// their task's PID (nil: ask containerd for this one).
func (b *backend) toAPI(ctx context.Context, st serviceStatus, pids map[string]uint32) api.Service {
	s := api.Service{
		Name: st.Name, Origin: st.Origin, Enabled: st.Enabled, State: st.State,
		Restarts: st.Restarts, Since: st.Since, LastError: st.LastError,
		Health: st.Health, HealthOutput: st.HealthOutput,
		Image: b.imageOf(st),
	}
	if st.State == api.StateRunning || st.State == api.StateStarting {
		if pids != nil {
			s.PID = int(pids[st.Name])
		} else {
			s.PID = int(taskPID(ctx, b.client, b.d.opts.Namespace, st.Name))
		}
	}
	return s
}

func (b *backend) Services(ctx context.Context) ([]api.Service, error) {
	list := b.m.list()
	pids := taskPIDs(ctx, b.client, b.d.opts.Namespace)
	out := make([]api.Service, 0, len(list))
	for _, st := range list {
		out = append(out, b.toAPI(ctx, st, pids))
	}
	return out, nil
}

func (b *backend) Service(ctx context.Context, name string) (*api.ServiceDetail, error) {
	st, err := b.m.status(name)
	if err != nil {
		return nil, err
	}
	det := &api.ServiceDetail{Service: b.toAPI(ctx, st, nil), LogPath: b.d.logPath(name)}
	if raw, err := os.ReadFile(filepath.Join(st.Bundle.Path, "config.json")); err == nil {
		det.Spec = raw
	}
	if def, err := os.ReadFile(filepath.Join(st.Bundle.Path, definitionFile)); err == nil {
		if j, err := yamlToJSON(def); err == nil {
			det.Definition = j
		}
	}
	return det, nil
}

func (b *backend) ServiceAction(ctx context.Context, name, action string) error {
	var err error
	switch action {
	case api.ActionStart:
		err = b.m.start(name)
	case api.ActionStop:
		err = b.m.stop(ctx, name)
	case api.ActionRestart:
		err = b.m.restart(ctx, name)
	case api.ActionEnable, api.ActionDisable:
		on := action == api.ActionEnable
		if err = b.m.setEnabled(name, on); err != nil {
			return err
		}
		if err = b.d.store.SetServiceEnabled(ctx, name, on); err != nil {
			return fmt.Errorf("%s %s: %w", action, name, err)
		}
		if on {
			err = b.m.start(name)
		} else {
			err = b.m.stop(ctx, name)
		}
	default:
		return fmt.Errorf("service action %q: want one of %v: %w", action, api.Actions, api.ErrInvalid)
	}
	if err != nil {
		return err
	}
	b.d.record(ctx, "service", name, action)
	return nil
}

func (b *backend) AddService(ctx context.Context, req api.AddServiceRequest) (*api.Service, error) {
	entry, err := parseServiceDefinition("definition", []byte(req.Definition))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if st, err := b.m.status(entry.Name); err == nil && st.Origin == originImage {
		return nil, fmt.Errorf("service %q is part of the OS image; pick another name: %w", entry.Name, api.ErrConflict)
	}
	if err := b.d.installService(ctx, entry, req.Archive); err != nil {
		return nil, err
	}
	bundle := containers.Bundle{Name: entry.Name, Path: filepath.Join(b.d.addedDir(), entry.Name)}
	if err := os.WriteFile(filepath.Join(bundle.Path, definitionFile), []byte(req.Definition), 0o644); err != nil {
		return nil, fmt.Errorf("add %s: %w", entry.Name, err)
	}
	if err := b.d.store.PutService(ctx, entry.Name, []byte(req.Definition)); err != nil {
		return nil, fmt.Errorf("add %s: %w", entry.Name, err)
	}
	// A service added again replaces the old one: stop it first.
	if err := b.m.stop(ctx, entry.Name); err != nil && !errors.Is(err, api.ErrNotFound) {
		return nil, err
	}
	b.m.add(bundle, originAdded, true)
	if err := b.d.store.SetServiceEnabled(ctx, entry.Name, true); err != nil {
		return nil, fmt.Errorf("add %s: %w", entry.Name, err)
	}
	if err := b.m.start(entry.Name); err != nil {
		return nil, err
	}
	b.d.record(ctx, "service", entry.Name, "added (image "+entry.Image+")")
	st, err := b.m.status(entry.Name)
	if err != nil {
		return nil, err
	}
	s := b.toAPI(ctx, st, nil)
	return &s, nil
}

func (b *backend) RemoveService(ctx context.Context, name string) error {
	st, err := b.m.status(name)
	if err != nil {
		return err
	}
	if st.Origin != originAdded {
		return fmt.Errorf("service %q is part of the OS image: disable it instead: %w", name, api.ErrConflict)
	}
	if err := b.m.stop(ctx, name); err != nil {
		return err
	}
	b.m.forget(name)
	if err := b.d.store.DeleteService(ctx, name); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := unmountUnder(st.Bundle.Path); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := os.RemoveAll(st.Bundle.Path); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	b.d.record(ctx, "service", name, "removed")
	return nil
}

func (b *backend) Logs(ctx context.Context, name string, lines int, follow bool, w io.Writer) error {
	if _, err := b.m.status(name); err != nil {
		return err
	}
	return writeLogs(ctx, b.d.logPath(name), lines, follow, w)
}

func (b *backend) Exec(ctx context.Context, name string, req api.ExecRequest, w io.Writer) (int, error) {
	if _, err := b.m.status(name); err != nil {
		return -1, err
	}
	if len(req.Args) == 0 {
		return -1, fmt.Errorf("exec in %s: no command: %w", name, api.ErrInvalid)
	}
	return execIn(ctx, b.client, b.d.opts.Namespace, name, req.Args, req.Env, req.Stdin, w)
}

// unmountUnder unmounts what is mounted under dir (the overlay and tmpfs a
// writable service leaves), deepest first.
func unmountUnder(dir string) error {
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return fmt.Errorf("mounts under %s: %w", dir, err)
	}
	sort.Slice(ms, func(i, j int) bool { return len(ms[i].Mountpoint) > len(ms[j].Mountpoint) })
	for _, m := range ms {
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", m.Mountpoint, err)
		}
	}
	return nil
}

// definitionFile keeps, in an added service's bundle, the definition it
// was added with.
const definitionFile = "definition.yml"

// imageOf names the image a service runs.
func (b *backend) imageOf(st serviceStatus) string {
	if st.Origin == originImage {
		return b.images[st.Name]
	}
	return readImageName(st.Bundle.Path)
}

// buildMetadata is where a build writes its own YAML (LinuxKit's
// `metadata: yaml` files entry; yml/ros.yml has it).
const buildMetadata = "etc/ros/build.yml"

// readBuildImages maps the services of the build's metadata to their
// images; empty when the image carries no metadata.
func readBuildImages(root string) map[string]string {
	out := map[string]string{}
	path := filepath.Join(root, buildMetadata)
	raw, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	cfg, err := buildfile.Parse(path, raw)
	if err != nil {
		return out
	}
	for _, s := range cfg.Services {
		out[s.Name] = s.Image
	}
	return out
}

// readImageName returns the image a bundle was made from, when known.
func readImageName(bundle string) string {
	def, err := os.ReadFile(filepath.Join(bundle, definitionFile))
	if err != nil {
		return ""
	}
	e, err := parseServiceDefinition(definitionFile, def)
	if err != nil {
		return ""
	}
	return e.Image
}

func yamlToJSON(y []byte) (json.RawMessage, error) {
	e, err := parseServiceDefinition(definitionFile, y)
	if err != nil {
		return nil, err
	}
	return json.Marshal(e)
}
