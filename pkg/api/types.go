// Package api is the wire contract of rosd: the JSON types, the Backend
// interface rosd implements, the HTTP handler serving it on the Unix socket
// /run/ros/ros.sock, and a Client that implements the same Backend over that
// socket. The ros CLI and programs in containers given the socket go through
// Client; nothing reaches rosd another way.
package api

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

// DefaultSocket is where rosd serves the API.
const DefaultSocket = "/run/ros/ros.sock"

// DefaultGroup is the group whose members may use the socket besides root.
const DefaultGroup = "ros"

// Service states.
const (
	StateRunning  = "running"
	StateStarting = "starting"
	StateWaiting  = "waiting" // waiting to be restarted after an exit
	StateExited   = "exited"
	StateStopped  = "stopped"
	StateDisabled = "disabled"
)

// Service origins.
const (
	OriginImage = "image" // part of the OS image
	OriginAdded = "added" // added by cloud-config or `ros service add`, kept on ROS_STATE
)

// Service actions accepted by Backend.ServiceAction.
const (
	ActionStart   = "start"
	ActionStop    = "stop"
	ActionRestart = "restart"
	ActionEnable  = "enable"
	ActionDisable = "disable"
)

// Actions lists the service actions in the order the API documents them.
var Actions = []string{ActionStart, ActionStop, ActionRestart, ActionEnable, ActionDisable}

// Service is the status of one system service.
type Service struct {
	Name         string    `json:"name"`
	Image        string    `json:"image"`
	Origin       string    `json:"origin"`
	Enabled      bool      `json:"enabled"`
	State        string    `json:"state"`
	PID          int       `json:"pid,omitempty"`
	Restarts     int       `json:"restarts"`
	Since        time.Time `json:"since,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	Health       string    `json:"health,omitempty"` // "", "healthy", "unhealthy", "starting"
	HealthOutput string    `json:"health_output,omitempty"`
}

// ServiceDetail is a service with its runtime specification.
type ServiceDetail struct {
	Service
	LogPath    string          `json:"log_path,omitempty"`
	Spec       json.RawMessage `json:"spec,omitempty"`       // OCI runtime spec
	Definition json.RawMessage `json:"definition,omitempty"` // LinuxKit image entry, if known
}

// AddServiceRequest adds a service kept on ROS_STATE.
type AddServiceRequest struct {
	// Definition is the YAML of one LinuxKit image entry (name, image,
	// command, binds, capabilities …).
	Definition string `json:"definition"`
	// Archive is a path on the machine of an OCI or docker-save archive
	// holding the image; "" means the image must already be in the local
	// store or be pullable.
	Archive string `json:"archive,omitempty"`
}

// ApplyResult says what a configuration change did.
type ApplyResult struct {
	Applied     []string `json:"applied"`
	NeedsReboot []string `json:"needs_reboot,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
}

// Validation is the verdict on a user-data document.
type Validation struct {
	Source   string   `json:"source"`
	Valid    bool     `json:"valid"`
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// ConfigRecord is one entry of the configuration history.
type ConfigRecord struct {
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
	Status   string    `json:"status"` // "applied" or "rejected"
	Error    string    `json:"error,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
}

// Event is one entry of the event log.
type Event struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"`
	Message string    `json:"message"`
}

// Engine is a user container engine the machine can run ("docker", "none").
type Engine struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Current     bool   `json:"current"`
	State       string `json:"state"`
}

// System describes the running machine.
type System struct {
	Version  string        `json:"version"`
	Hostname string        `json:"hostname"`
	Uptime   time.Duration `json:"-"`
	BootedAt time.Time     `json:"booted_at"`
}

type systemJSON struct {
	Version  string    `json:"version"`
	Hostname string    `json:"hostname"`
	Uptime   float64   `json:"uptime_seconds"`
	BootedAt time.Time `json:"booted_at"`
}

// MarshalJSON writes Uptime as uptime_seconds, a float.
func (s System) MarshalJSON() ([]byte, error) {
	return json.Marshal(systemJSON{s.Version, s.Hostname, s.Uptime.Seconds(), s.BootedAt})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *System) UnmarshalJSON(b []byte) error {
	var j systemJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = System{j.Version, j.Hostname, time.Duration(j.Uptime * float64(time.Second)), j.BootedAt}
	return nil
}

// ExecRequest runs a command in a service's container.
type ExecRequest struct {
	Args  []string `json:"args"`
	Env   []string `json:"env,omitempty"`
	Stdin string   `json:"stdin,omitempty"`
}

// Backend is what rosd does for the API. The handler serves any Backend;
// Client implements it over the socket. Errors wrap ErrNotFound, ErrInvalid,
// ErrConflict or ErrForbidden where a caller may branch on them.
type Backend interface {
	// System describes the machine.
	System(ctx context.Context) (*System, error)
	// Services lists every service, in start order.
	Services(ctx context.Context) ([]Service, error)
	// Service returns one service with its spec.
	Service(ctx context.Context, name string) (*ServiceDetail, error)
	// ServiceAction starts, stops, restarts, enables or disables a service.
	ServiceAction(ctx context.Context, name, action string) error
	// AddService adds a service kept on ROS_STATE and starts it.
	AddService(ctx context.Context, req AddServiceRequest) (*Service, error)
	// RemoveService stops and removes an added service.
	RemoveService(ctx context.Context, name string) error
	// Logs writes the last lines of a service's log (all if lines <= 0) to w;
	// with follow it keeps writing new lines until ctx is done.
	Logs(ctx context.Context, name string, lines int, follow bool, w io.Writer) error
	// Exec runs a command in a service's container, writing its output
	// (stdout and stderr) to w, and returns its exit code.
	Exec(ctx context.Context, name string, req ExecRequest, w io.Writer) (int, error)
	// Config returns the merged running configuration as YAML; private
	// includes secrets (keys, passwords).
	Config(ctx context.Context, private bool) ([]byte, error)
	// ConfigGet returns the value at a dotted key ("ros.network.dns").
	ConfigGet(ctx context.Context, key string) (any, error)
	// ConfigSet sets a dotted key to a YAML value and applies the result.
	ConfigSet(ctx context.Context, key, yamlValue string) (*ApplyResult, error)
	// ConfigMerge merges user-data YAML into the configuration and applies it.
	ConfigMerge(ctx context.Context, yaml []byte) (*ApplyResult, error)
	// ConfigValidate validates user-data; empty yaml means the user-data
	// the machine booted with.
	ConfigValidate(ctx context.Context, yaml []byte) (*Validation, error)
	// ConfigHistory lists the latest configurations, newest first.
	ConfigHistory(ctx context.Context, limit int) ([]ConfigRecord, error)
	// Events lists events with ID > since, oldest first, at most limit
	// (all if limit <= 0).
	Events(ctx context.Context, since int64, limit int) ([]Event, error)
	// Engines lists the user container engines.
	Engines(ctx context.Context) ([]Engine, error)
	// SwitchEngine makes name the user container engine.
	SwitchEngine(ctx context.Context, name string) (*ApplyResult, error)
	OSBackend
}
