// Package apitest holds a fake api.Backend and a helper serving a Backend
// on a Unix socket, for tests of API clients (the ros CLI, rosd's callers).
package apitest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/ros-os/ros/pkg/api"
)

// Fake is an in-memory api.Backend. Set its fields before serving it; it
// records every call in Calls. When Err is set every method returns it.
type Fake struct {
	mu sync.Mutex

	SystemInfo   api.System
	ServiceList  []api.ServiceDetail
	LogText      map[string]string // service name -> log
	ConfigYAML   []byte            // public export
	PrivateYAML  []byte            // export with secrets
	ConfigValues map[string]any    // dotted key -> value
	Apply        api.ApplyResult   // answer of set, merge and switch
	Validation   api.Validation
	History      []api.ConfigRecord
	EventList    []api.Event
	EngineList   []api.Engine
	OS           api.OSStatus
	Versions     []api.OSVersion
	Upgrade      api.UpgradeResult // answer of OSUpgrade
	Steps        []api.Progress    // progress OSUpgrade and OSInstall report first
	Err          error

	// Follow feeds followed logs: each string is written (and flushed) as it
	// arrives, until the request ends.
	Follow chan string
	// ExecFunc answers Exec; by default Exec writes the args joined by
	// spaces and a newline, and exits 0.
	ExecFunc func(name string, req api.ExecRequest, w io.Writer) (int, error)

	Calls []string
}

var _ api.Backend = (*Fake)(nil)

func (f *Fake) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, fmt.Sprintf(format, args...))
	return f.Err
}

// CallLog returns the calls so far, one per line.
func (f *Fake) CallLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Calls)
}

func (f *Fake) find(name string) (int, error) {
	for i, s := range f.ServiceList {
		if s.Name == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("service %q: %w", name, api.ErrNotFound)
}

// System implements api.Backend.
func (f *Fake) System(ctx context.Context) (*api.System, error) {
	if err := f.record("System"); err != nil {
		return nil, err
	}
	s := f.SystemInfo
	return &s, nil
}

// Services implements api.Backend.
func (f *Fake) Services(ctx context.Context) ([]api.Service, error) {
	if err := f.record("Services"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.Service
	for _, s := range f.ServiceList {
		out = append(out, s.Service)
	}
	return out, nil
}

// Service implements api.Backend.
func (f *Fake) Service(ctx context.Context, name string) (*api.ServiceDetail, error) {
	if err := f.record("Service %s", name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(name)
	if err != nil {
		return nil, err
	}
	s := f.ServiceList[i]
	return &s, nil
}

// ServiceAction implements api.Backend: start and restart set the state
// running, stop stopped, enable and disable the Enabled flag.
func (f *Fake) ServiceAction(ctx context.Context, name, action string) error {
	if err := f.record("ServiceAction %s %s", name, action); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(name)
	if err != nil {
		return err
	}
	s := &f.ServiceList[i]
	switch action {
	case api.ActionStart, api.ActionRestart:
		s.State = api.StateRunning
	case api.ActionStop:
		s.State = api.StateStopped
	case api.ActionEnable:
		s.Enabled = true
	case api.ActionDisable:
		s.Enabled = false
	default:
		return fmt.Errorf("action %q: %w", action, api.ErrInvalid)
	}
	return nil
}

// AddService implements api.Backend: the definition's first line must be
// "name: NAME".
func (f *Fake) AddService(ctx context.Context, req api.AddServiceRequest) (*api.Service, error) {
	if err := f.record("AddService %q %s", req.Definition, req.Archive); err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(req.Definition, "\n")
	name, ok := strings.CutPrefix(first, "name: ")
	if !ok {
		return nil, fmt.Errorf("definition: no name: %w", api.ErrInvalid)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.find(name); err == nil {
		return nil, fmt.Errorf("service %q: %w", name, api.ErrConflict)
	}
	s := api.Service{Name: name, Origin: api.OriginAdded, Enabled: true, State: api.StateRunning}
	f.ServiceList = append(f.ServiceList, api.ServiceDetail{Service: s})
	return &s, nil
}

// RemoveService implements api.Backend.
func (f *Fake) RemoveService(ctx context.Context, name string) error {
	if err := f.record("RemoveService %s", name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(name)
	if err != nil {
		return err
	}
	if f.ServiceList[i].Origin != api.OriginAdded {
		return fmt.Errorf("service %q is part of the image: %w", name, api.ErrConflict)
	}
	f.ServiceList = slices.Delete(f.ServiceList, i, i+1)
	return nil
}

// Logs implements api.Backend: the last lines of LogText[name], then with
// follow whatever arrives on Follow until ctx is done.
func (f *Fake) Logs(ctx context.Context, name string, lines int, follow bool, w io.Writer) error {
	if err := f.record("Logs %s %d %t", name, lines, follow); err != nil {
		return err
	}
	f.mu.Lock()
	_, err := f.find(name)
	text := f.LogText[name]
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if lines > 0 {
		all := strings.SplitAfter(text, "\n")
		if all[len(all)-1] == "" {
			all = all[:len(all)-1]
		}
		text = strings.Join(all[max(0, len(all)-lines):], "")
	}
	if _, err := io.WriteString(w, text); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s, ok := <-f.Follow:
			if !ok {
				return nil
			}
			if _, err := io.WriteString(w, s); err != nil {
				return err
			}
		}
	}
}

// Exec implements api.Backend.
func (f *Fake) Exec(ctx context.Context, name string, req api.ExecRequest, w io.Writer) (int, error) {
	if err := f.record("Exec %s %q", name, req.Args); err != nil {
		return -1, err
	}
	f.mu.Lock()
	_, err := f.find(name)
	f.mu.Unlock()
	if err != nil {
		return -1, err
	}
	if f.ExecFunc != nil {
		return f.ExecFunc(name, req, w)
	}
	_, err = fmt.Fprintln(w, strings.Join(req.Args, " "))
	return 0, err
}

// Config implements api.Backend.
func (f *Fake) Config(ctx context.Context, private bool) ([]byte, error) {
	if err := f.record("Config %t", private); err != nil {
		return nil, err
	}
	if private {
		return f.PrivateYAML, nil
	}
	return f.ConfigYAML, nil
}

// ConfigGet implements api.Backend.
func (f *Fake) ConfigGet(ctx context.Context, key string) (any, error) {
	if err := f.record("ConfigGet %s", key); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.ConfigValues[key]
	if !ok {
		return nil, fmt.Errorf("key %s: %w", key, api.ErrNotFound)
	}
	return v, nil
}

// ConfigSet implements api.Backend: it stores the value as a string.
func (f *Fake) ConfigSet(ctx context.Context, key, yamlValue string) (*api.ApplyResult, error) {
	if err := f.record("ConfigSet %s %q", key, yamlValue); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ConfigValues == nil {
		f.ConfigValues = map[string]any{}
	}
	f.ConfigValues[key] = yamlValue
	res := f.Apply
	return &res, nil
}

// ConfigMerge implements api.Backend.
func (f *Fake) ConfigMerge(ctx context.Context, yaml []byte) (*api.ApplyResult, error) {
	if err := f.record("ConfigMerge %q", yaml); err != nil {
		return nil, err
	}
	res := f.Apply
	return &res, nil
}

// ConfigValidate implements api.Backend.
func (f *Fake) ConfigValidate(ctx context.Context, yaml []byte) (*api.Validation, error) {
	if err := f.record("ConfigValidate %q", yaml); err != nil {
		return nil, err
	}
	v := f.Validation
	return &v, nil
}

// ConfigHistory implements api.Backend.
func (f *Fake) ConfigHistory(ctx context.Context, limit int) ([]api.ConfigRecord, error) {
	if err := f.record("ConfigHistory %d", limit); err != nil {
		return nil, err
	}
	h := f.History
	if limit > 0 && len(h) > limit {
		h = h[:limit]
	}
	return h, nil
}

// Events implements api.Backend.
func (f *Fake) Events(ctx context.Context, since int64, limit int) ([]api.Event, error) {
	if err := f.record("Events %d %d", since, limit); err != nil {
		return nil, err
	}
	var out []api.Event
	for _, e := range f.EventList {
		if e.ID > since && (limit <= 0 || len(out) < limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Engines implements api.Backend.
func (f *Fake) Engines(ctx context.Context) ([]api.Engine, error) {
	if err := f.record("Engines"); err != nil {
		return nil, err
	}
	return f.EngineList, nil
}

// SwitchEngine implements api.Backend.
func (f *Fake) SwitchEngine(ctx context.Context, name string) (*api.ApplyResult, error) {
	if err := f.record("SwitchEngine %s", name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	found := false
	for i := range f.EngineList {
		e := &f.EngineList[i]
		e.Current = e.Name == name
		found = found || e.Current
	}
	if !found {
		return nil, fmt.Errorf("engine %q: %w", name, api.ErrNotFound)
	}
	res := f.Apply
	return &res, nil
}
