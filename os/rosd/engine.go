package rosd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/cloudconfig"
)

// Engines the machine knows. Each is a system service of the same name
// (docker: yml/docker.yml adds it); "none" runs no engine.
const (
	engineDocker = "docker"
	engineNone   = "none"
)

var engineDescriptions = map[string]string{
	engineDocker: "Docker Engine (dockerd with its own containerd; /var/lib/docker on ROS_STATE, /run/docker.sock)",
	engineNone:   "no user container engine",
}

func (b *backend) Engines(ctx context.Context) ([]api.Engine, error) {
	st, err := b.m.status(engineDocker)
	docker := api.Engine{Name: engineDocker, Description: engineDescriptions[engineDocker], State: "not in this image"}
	if err == nil {
		docker.Current = st.Enabled
		docker.State = st.State
	}
	none := api.Engine{Name: engineNone, Description: engineDescriptions[engineNone], Current: !docker.Current, State: "-"}
	return []api.Engine{docker, none}, nil
}

func (b *backend) SwitchEngine(ctx context.Context, name string) (*api.ApplyResult, error) {
	switch name {
	case engineDocker:
		if _, err := b.m.status(engineDocker); err != nil {
			return nil, fmt.Errorf("engine docker: this image has no docker service (build it with yml/docker.yml): %w", api.ErrConflict)
		}
		if err := b.ServiceAction(ctx, engineDocker, api.ActionEnable); err != nil {
			return nil, err
		}
	case engineNone:
		if _, err := b.m.status(engineDocker); err == nil {
			if err := b.ServiceAction(ctx, engineDocker, api.ActionDisable); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("engine %q: want %s or %s: %w", name, engineDocker, engineNone, api.ErrInvalid)
	}
	b.d.record(ctx, "engine", name, "switched")
	return &api.ApplyResult{Applied: []string{"engine " + name}}, nil
}

// writeEngineConfig writes ros.engine's options where the docker service
// reads them when it starts: /run/ros/engine/docker/args (one dockerd
// argument per line) and daemon.json.
func writeEngineConfig(runDir string, e cloudconfig.Engine) error {
	dir := filepath.Join(runDir, "engine", engineDocker)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("engine config: %w", err)
	}
	args := strings.Join(e.Args, "\n")
	if args != "" {
		args += "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "args"), []byte(args), 0o644); err != nil {
		return fmt.Errorf("engine config: %w", err)
	}
	daemonJSON := filepath.Join(dir, "daemon.json")
	if len(e.Daemon) == 0 {
		if err := os.Remove(daemonJSON); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("engine config: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(e.Daemon, "", "  ")
	if err != nil {
		return fmt.Errorf("engine config: ros.engine.daemon: %w", err)
	}
	return os.WriteFile(daemonJSON, append(b, '\n'), 0o644)
}
