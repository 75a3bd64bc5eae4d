package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/api/apitest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newFake() *apitest.Fake {
	return &apitest.Fake{
		SystemInfo: api.System{Version: "v1.2.3", Hostname: "box", Uptime: 90*time.Second + 500*time.Millisecond, BootedAt: t0},
		ServiceList: []api.ServiceDetail{
			{
				Service: api.Service{Name: "sshd", Image: "ros/sshd:1", Origin: api.OriginImage, Enabled: true,
					State: api.StateRunning, PID: 412, Restarts: 1, Since: t0, Health: "healthy", HealthOutput: "ok"},
				LogPath:    "/var/log/ros/sshd.log",
				Spec:       json.RawMessage(`{"ociVersion":"1.2.0","process":{"args":["/usr/sbin/sshd","-D"]}}`),
				Definition: json.RawMessage(`{"name":"sshd","image":"ros/sshd:1"}`),
			},
			{Service: api.Service{Name: "web", Image: "nginx:1", Origin: api.OriginAdded, Enabled: false, State: api.StateExited, LastError: "exit status 2"}},
		},
		LogText:      map[string]string{"sshd": "one\ntwo\nthree\n"},
		ConfigYAML:   []byte("hostname: box\n"),
		PrivateYAML:  []byte("hostname: box\nros:\n  ssh:\n    host_keys: secret\n"),
		ConfigValues: map[string]any{"hostname": "box", "ros.network.dns.nameservers": []any{"1.1.1.1", "9.9.9.9"}, "ros.sysctl": map[string]any{"vm.swappiness": "10"}},
		Apply:        api.ApplyResult{Applied: []string{"hostname"}, NeedsReboot: []string{"ros.ssh.port"}, Warnings: []string{"unknown key foo"}},
		Validation:   api.Validation{Source: "nocloud", Valid: false, Errors: []string{"line 3: hostname: want a string"}},
		History: []api.ConfigRecord{
			{ID: 2, Time: t0.Add(time.Hour), Source: "ros config set", Status: "applied"},
			{ID: 1, Time: t0, Source: "nocloud", Status: "rejected", Error: "bad yaml", Warnings: []string{"w"}},
		},
		EventList: []api.Event{
			{ID: 1, Time: t0, Kind: "service", Subject: "sshd", Message: "started"},
			{ID: 2, Time: t0.Add(time.Second), Kind: "config", Subject: "nocloud", Message: "applied"},
			{ID: 3, Time: t0.Add(2 * time.Second), Kind: "service", Subject: "web", Message: "exited"},
		},
		EngineList: []api.Engine{{Name: "docker", Description: "Docker Engine", Current: true, State: "running"}, {Name: "none", Description: "no engine"}},
	}
}

// calls exercises every Backend method; each returns what a caller sees.
var calls = []struct {
	name string
	call func(ctx context.Context, b api.Backend) (any, error)
}{
	{"System", func(ctx context.Context, b api.Backend) (any, error) { return b.System(ctx) }},
	{"Services", func(ctx context.Context, b api.Backend) (any, error) { return b.Services(ctx) }},
	{"Service", func(ctx context.Context, b api.Backend) (any, error) { return b.Service(ctx, "sshd") }},
	{"Service/plain", func(ctx context.Context, b api.Backend) (any, error) { return b.Service(ctx, "web") }},
	{"ServiceAction/start", func(ctx context.Context, b api.Backend) (any, error) {
		return nil, b.ServiceAction(ctx, "web", "start")
	}},
	{"ServiceAction/stop", func(ctx context.Context, b api.Backend) (any, error) {
		return nil, b.ServiceAction(ctx, "sshd", "stop")
	}},
	{"ServiceAction/restart", func(ctx context.Context, b api.Backend) (any, error) {
		return nil, b.ServiceAction(ctx, "sshd", "restart")
	}},
	{"ServiceAction/enable", func(ctx context.Context, b api.Backend) (any, error) {
		return nil, b.ServiceAction(ctx, "web", "enable")
	}},
	{"ServiceAction/disable", func(ctx context.Context, b api.Backend) (any, error) {
		return nil, b.ServiceAction(ctx, "sshd", "disable")
	}},
	{"AddService", func(ctx context.Context, b api.Backend) (any, error) {
		return b.AddService(ctx, api.AddServiceRequest{Definition: "name: db\nimage: postgres:16\n", Archive: "/var/tmp/pg.tar"})
	}},
	{"RemoveService", func(ctx context.Context, b api.Backend) (any, error) { return nil, b.RemoveService(ctx, "web") }},
	{"Logs", func(ctx context.Context, b api.Backend) (any, error) {
		var buf bytes.Buffer
		err := b.Logs(ctx, "sshd", 0, false, &buf)
		return buf.String(), err
	}},
	{"Logs/lines", func(ctx context.Context, b api.Backend) (any, error) {
		var buf bytes.Buffer
		err := b.Logs(ctx, "sshd", 2, false, &buf)
		return buf.String(), err
	}},
	{"Exec", func(ctx context.Context, b api.Backend) (any, error) {
		var buf bytes.Buffer
		code, err := b.Exec(ctx, "sshd", api.ExecRequest{Args: []string{"echo", "hi there"}, Env: []string{"A=1"}, Stdin: "in"}, &buf)
		return fmt.Sprintf("%d %q", code, buf.String()), err
	}},
	{"Config", func(ctx context.Context, b api.Backend) (any, error) { return b.Config(ctx, false) }},
	{"Config/private", func(ctx context.Context, b api.Backend) (any, error) { return b.Config(ctx, true) }},
	{"ConfigGet/string", func(ctx context.Context, b api.Backend) (any, error) { return b.ConfigGet(ctx, "hostname") }},
	{"ConfigGet/list", func(ctx context.Context, b api.Backend) (any, error) {
		return b.ConfigGet(ctx, "ros.network.dns.nameservers")
	}},
	{"ConfigGet/map", func(ctx context.Context, b api.Backend) (any, error) { return b.ConfigGet(ctx, "ros.sysctl") }},
	{"ConfigSet", func(ctx context.Context, b api.Backend) (any, error) { return b.ConfigSet(ctx, "hostname", "new-name") }},
	{"ConfigMerge", func(ctx context.Context, b api.Backend) (any, error) {
		return b.ConfigMerge(ctx, []byte("#cloud-config\nhostname: x\n"))
	}},
	{"ConfigValidate", func(ctx context.Context, b api.Backend) (any, error) {
		return b.ConfigValidate(ctx, []byte("hostname: [\n"))
	}},
	{"ConfigValidate/booted", func(ctx context.Context, b api.Backend) (any, error) { return b.ConfigValidate(ctx, nil) }},
	{"ConfigHistory", func(ctx context.Context, b api.Backend) (any, error) { return b.ConfigHistory(ctx, 0) }},
	{"ConfigHistory/limit", func(ctx context.Context, b api.Backend) (any, error) { return b.ConfigHistory(ctx, 1) }},
	{"Events", func(ctx context.Context, b api.Backend) (any, error) { return b.Events(ctx, 0, 0) }},
	{"Events/since", func(ctx context.Context, b api.Backend) (any, error) { return b.Events(ctx, 1, 1) }},
	{"Events/none", func(ctx context.Context, b api.Backend) (any, error) { return b.Events(ctx, 3, 0) }},
	{"Engines", func(ctx context.Context, b api.Backend) (any, error) { return b.Engines(ctx) }},
	{"SwitchEngine", func(ctx context.Context, b api.Backend) (any, error) { return b.SwitchEngine(ctx, "none") }},
}

// TestRoundTrip calls every method through the socket and directly on an
// identical fake: answers and the calls the backend saw must agree.
func TestRoundTrip(t *testing.T) {
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			served, direct := newFake(), newFake()
			c := api.NewClient(apitest.Serve(t, served))
			got, gotErr := tt.call(ctx, c)
			want, wantErr := tt.call(ctx, direct)
			if gotErr != nil || wantErr != nil {
				t.Fatalf("%s: client error %v, direct error %v", tt.name, gotErr, wantErr)
			}
			if d := cmp.Diff(normalize(want), normalize(got)); d != "" {
				t.Errorf("%s over the socket differs from the backend's answer (-want +got):\n%s", tt.name, d)
			}
			if d := cmp.Diff(direct.CallLog(), served.CallLog()); d != "" {
				t.Errorf("%s: calls seen by the backend differ (-direct +served):\n%s", tt.name, d)
			}
			if d := cmp.Diff(direct.ServiceList, served.ServiceList); d != "" {
				t.Errorf("%s: service state after the call differs (-direct +served):\n%s", tt.name, d)
			}
		})
	}
}

// normalize turns nil and empty slices alike ([] over JSON) and raw JSON
// into values, so that answers compare by meaning.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	if out == nil {
		return []any{}
	}
	return out
}

func TestSystemUptimeJSON(t *testing.T) {
	b, err := json.Marshal(api.System{Version: "v1", Uptime: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"uptime_seconds":1.5`) {
		t.Errorf("json.Marshal(System) = %s, want uptime_seconds 1.5", b)
	}
	var s api.System
	if err := json.Unmarshal(b, &s); err != nil || s.Uptime != 1500*time.Millisecond {
		t.Errorf("json.Unmarshal(%s) = %v, %v; want uptime 1.5s", b, s.Uptime, err)
	}
}

// TestErrors checks sentinels survive the socket both ways.
func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   error
		status int
	}{
		{"not found", fmt.Errorf("service %q: %w", "x", api.ErrNotFound), api.ErrNotFound, 404},
		{"invalid", fmt.Errorf("key foo: %w", api.ErrInvalid), api.ErrInvalid, 400},
		{"conflict", fmt.Errorf("service db exists: %w", api.ErrConflict), api.ErrConflict, 409},
		{"forbidden", fmt.Errorf("%w: not you", api.ErrForbidden), api.ErrForbidden, 403},
		{"other", errors.New("containerd is down"), nil, 500},
	}
	for _, tt := range tests {
		for _, c := range calls {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				f := newFake()
				f.Err = tt.err
				_, err := c.call(t.Context(), api.NewClient(apitest.Serve(t, f)))
				if err == nil {
					t.Fatalf("%s with backend error %v = nil error", c.name, tt.err)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("%s = %v, want errors.Is %v", c.name, err, tt.want)
				}
				var ae *api.Error
				if !errors.As(err, &ae) || ae.Status != tt.status {
					t.Errorf("%s = %#v, want *api.Error with status %d", c.name, err, tt.status)
				}
				if err.Error() != tt.err.Error() {
					t.Errorf("%s error text = %q, want %q", c.name, err, tt.err)
				}
			})
		}
	}
}

func TestNotFoundService(t *testing.T) {
	c := api.NewClient(apitest.Serve(t, newFake()))
	ctx := t.Context()
	checks := map[string]error{
		"Service":       func() error { _, err := c.Service(ctx, "nope"); return err }(),
		"ServiceAction": c.ServiceAction(ctx, "nope", "start"),
		"RemoveService": c.RemoveService(ctx, "nope"),
		"Logs":          c.Logs(ctx, "nope", 0, true, io.Discard),
		"Exec": func() error {
			_, err := c.Exec(ctx, "nope", api.ExecRequest{Args: []string{"true"}}, io.Discard)
			return err
		}(),
		"SwitchEngine": func() error { _, err := c.SwitchEngine(ctx, "podman"); return err }(),
		"ConfigGet":    func() error { _, err := c.ConfigGet(ctx, "nope"); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, api.ErrNotFound) {
			t.Errorf("%s(nope) = %v, want ErrNotFound", name, err)
		}
	}
	if err := c.ServiceAction(ctx, "sshd", "explode"); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("ServiceAction(sshd, explode) = %v, want ErrInvalid", err)
	}
	if _, err := c.AddService(ctx, api.AddServiceRequest{Definition: "name: sshd\n"}); !errors.Is(err, api.ErrConflict) {
		t.Errorf("AddService(sshd) = %v, want ErrConflict", err)
	}
}

// TestBadRequests sends what the client never sends.
func TestBadRequests(t *testing.T) {
	sock := apitest.Serve(t, newFake())
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	tests := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/services/sshd/logs?lines=many", "", 400},
		{"GET", "/v1/services/sshd/logs?follow=perhaps", "", 400},
		{"GET", "/v1/config?private=sure", "", 400},
		{"GET", "/v1/config/get", "", 400},
		{"POST", "/v1/config/set", `{"key":"hostname","value":"x","extra":1}`, 400},
		{"POST", "/v1/config/set", `{"value":"x"}`, 400},
		{"POST", "/v1/services", `not json`, 400},
		{"POST", "/v1/services/sshd/exec", `{"args":[]}`, 400},
		{"GET", "/v1/events?since=-", "", 400},
		{"GET", "/v1/config/history?limit=x", "", 400},
		{"GET", "/v1/nothing", "", 404},
		{"PUT", "/v1/services", "", 405},
		{"GET", "/v1/services", "", 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://x"+tt.path, strings.NewReader(tt.body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.status)
		}
		if tt.status == 400 && !strings.Contains(string(body), `"error":`) {
			t.Errorf("%s %s body = %s, want a JSON error", tt.method, tt.path, body)
		}
	}
}

func TestExec(t *testing.T) {
	f := newFake()
	f.ExecFunc = func(name string, req api.ExecRequest, w io.Writer) (int, error) {
		if req.Args[0] == "fail-late" {
			_, _ = io.WriteString(w, "partial\n")
			return -1, errors.New("task lost")
		}
		fmt.Fprintf(w, "out:%s env:%v stdin:%s\n", req.Args, req.Env, req.Stdin)
		return 3, nil
	}
	c := api.NewClient(apitest.Serve(t, f))
	var buf bytes.Buffer
	code, err := c.Exec(t.Context(), "sshd", api.ExecRequest{Args: []string{"sh", "-c", "exit 3"}, Env: []string{"X=1"}, Stdin: "data"}, &buf)
	if err != nil || code != 3 || buf.String() != "out:[sh -c exit 3] env:[X=1] stdin:data\n" {
		t.Errorf("Exec = %d, %v, output %q; want 3, nil, the command's output", code, err, buf.String())
	}
	buf.Reset()
	code, err = c.Exec(t.Context(), "sshd", api.ExecRequest{Args: []string{"fail-late"}}, &buf)
	if err == nil || !strings.Contains(err.Error(), "task lost") || buf.String() != "partial\n" {
		t.Errorf("Exec(fail-late) = %d, %v, output %q; want the trailer's error after the output", code, err, buf.String())
	}
	buf.Reset()
	f.ExecFunc = func(string, api.ExecRequest, io.Writer) (int, error) { return 0, nil }
	code, err = c.Exec(t.Context(), "sshd", api.ExecRequest{Args: []string{"true"}}, &buf)
	if err != nil || code != 0 || buf.Len() != 0 {
		t.Errorf("Exec(true) = %d, %v, %q; want 0, nil, no output", code, err, buf.String())
	}
}

// TestFollowLogs reads a followed log as it is written.
func TestFollowLogs(t *testing.T) {
	f := newFake()
	f.Follow = make(chan string)
	c := api.NewClient(apitest.Serve(t, f))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := c.Logs(ctx, "sshd", 1, true, pw)
		pw.Close()
		done <- err
	}()
	read := func(want string) {
		t.Helper()
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(pr, buf); err != nil || string(buf) != want {
			t.Fatalf("followed log = %q, %v; want %q", buf, err, want)
		}
	}
	read("three\n")
	for _, line := range []string{"four\n", "five\n"} {
		f.Follow <- line // unbuffered: the backend took it
		read(line)
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Logs after cancel = %v, want context.Canceled", err)
	}
}

// TestPeerCredRefused serves with an access check that refuses everyone:
// the check sees this process's credentials and the client gets 403.
func TestPeerCredRefused(t *testing.T) {
	seen := make(chan api.PeerCred, 1)
	sock := apitest.Serve(t, newFake(), api.WithAccess(func(c api.PeerCred) error {
		seen <- c
		return fmt.Errorf("%w: uid %d is neither root nor in group ros", api.ErrForbidden, c.UID)
	}))
	_, err := api.NewClient(sock).Services(t.Context())
	if !errors.Is(err, api.ErrForbidden) || !strings.Contains(err.Error(), "group ros") {
		t.Errorf("Services() = %v, want ErrForbidden naming group ros", err)
	}
	c := <-seen
	if int(c.UID) != os.Getuid() || int(c.GID) != os.Getgid() || int(c.PID) != os.Getpid() {
		t.Errorf("peer credentials = %+v, want this process (uid %d gid %d pid %d)", c, os.Getuid(), os.Getgid(), os.Getpid())
	}
}

// TestNoPeerCred serves the handler over TCP, where there are no peer
// credentials: every request is refused.
func TestNoPeerCred(t *testing.T) {
	srv := httptest.NewServer(api.NewHandler(newFake(), nil, api.WithAccess(func(api.PeerCred) error { return nil })))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/services")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || !strings.Contains(string(body), "peer credentials") {
		t.Errorf("GET /v1/services over TCP = %d %s, want 403 peer credentials unknown", resp.StatusCode, body)
	}
}

func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	_, err := api.NewClient(dir + "/none.sock").Services(t.Context())
	want := "cannot reach rosd at " + dir + "/none.sock: no such file or directory (is rosd running?)"
	if !errors.Is(err, api.ErrUnreachable) || err.Error() != want {
		t.Errorf("Services() = %v, want %q", err, want)
	}
	e := &api.UnreachableError{Socket: "/run/ros/ros.sock", Err: &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}}
	want = "cannot reach rosd at /run/ros/ros.sock: permission denied (are you root or in group ros?)"
	if e.Error() != want {
		t.Errorf("UnreachableError.Error() = %q, want %q", e.Error(), want)
	}
}
