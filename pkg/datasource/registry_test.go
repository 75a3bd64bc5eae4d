package datasource_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/datasource"
)

func TestNames(t *testing.T) {
	want := []string{"cmdline", "nocloud", "configdrive", "file", "url", "digitalocean", "hetzner", "gce", "vultr", "openstack", "ec2"}
	if got := datasource.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	wantDefault := []string{"cmdline", "nocloud", "configdrive", "digitalocean", "hetzner", "gce", "vultr", "openstack", "ec2"}
	if got := datasource.DefaultNames(); !reflect.DeepEqual(got, wantDefault) {
		t.Errorf("DefaultNames() = %v, want %v", got, wantDefault)
	}
	srcs, err := datasource.FromNames(datasource.Names()[:3], datasource.Options{})
	if err != nil || len(srcs) != 3 {
		t.Fatalf("FromNames(local defaults) = %v, %v", srcs, err)
	}
	for _, n := range datasource.DefaultNames() {
		srcs, err := datasource.FromNames([]string{n}, datasource.Options{})
		if err != nil || len(srcs) != 1 || srcs[0].Name() != n {
			t.Errorf("FromNames([%s]) = %v, %v; want one source named %s", n, srcs, err, n)
		}
	}
}

func TestFromNames(t *testing.T) {
	opts := datasource.Options{Cmdline: "quiet", HTTP: datasource.HTTPOptions{Timeout: time.Second}}
	srcs, err := datasource.FromNames([]string{
		"cmdline", "nocloud:/media/cidata", " configdrive ", "file:/var/lib/ros/user-data",
		"url:https://example.org/cc.yml", "EC2:http://10.0.0.1", "gce",
	}, opts)
	if err != nil {
		t.Fatalf("FromNames() error = %v", err)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, fmt.Sprintf("%T", s))
	}
	want := []string{"*datasource.Cmdline", "*datasource.NoCloud", "*datasource.ConfigDrive", "*datasource.File",
		"*datasource.URL", "*datasource.EC2", "*datasource.GCE"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FromNames() types = %v, want %v", got, want)
	}
	if c := srcs[0].(*datasource.Cmdline); c.Line != "quiet" {
		t.Errorf("cmdline Line = %q, want quiet", c.Line)
	}
	if n := srcs[1].(*datasource.NoCloud); n.Dir != "/media/cidata" || n.Finder == nil {
		t.Errorf("nocloud = %+v, want Dir /media/cidata and a Finder", n)
	}
	if f := srcs[3].(*datasource.File); f.Path != "/var/lib/ros/user-data" {
		t.Errorf("file Path = %q", f.Path)
	}
	if u := srcs[4].(*datasource.URL); u.URL != "https://example.org/cc.yml" {
		t.Errorf("url URL = %q", u.URL)
	}
	if e := srcs[5].(*datasource.EC2); e.HTTP.BaseURL != "http://10.0.0.1" || e.HTTP.Timeout != time.Second {
		t.Errorf("ec2 HTTP = %+v, want base http://10.0.0.1 and the given timeout", e.HTTP)
	}
	if g := srcs[6].(*datasource.GCE); g.HTTP.BaseURL != "" {
		t.Errorf("gce BaseURL = %q, want default", g.HTTP.BaseURL)
	}
}

func TestFromNamesErrors(t *testing.T) {
	for _, tt := range []struct {
		names   []string
		unknown bool
		has     string
	}{
		{[]string{"ec2", "azure"}, true, `"azure"`},
		{[]string{"file"}, false, "needs a path"},
		{[]string{"url"}, false, "needs a URL"},
		{[]string{"cmdline:x"}, false, "takes no argument"},
	} {
		_, err := datasource.FromNames(tt.names, datasource.Options{})
		if err == nil || errors.Is(err, datasource.ErrUnknownSource) != tt.unknown || !strings.Contains(err.Error(), tt.has) {
			t.Errorf("FromNames(%q) error = %v, want one mentioning %s (unknown: %v)", tt.names, err, tt.has, tt.unknown)
		}
	}
}

// fakeSource records the order of Fetch calls.
type fakeSource struct {
	name  string
	kind  datasource.Kind
	err   error
	calls *[]string
}

func (f *fakeSource) Name() string          { return f.name }
func (f *fakeSource) Kind() datasource.Kind { return f.kind }
func (f *fakeSource) Fetch(ctx context.Context) (*datasource.Data, error) {
	*f.calls = append(*f.calls, f.name)
	if f.err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, f.err)
	}
	return &datasource.Data{Source: f.name + ":x", MetaData: map[string]any{}}, nil
}

func TestFirst(t *testing.T) {
	notFound, broken := datasource.ErrNotFound, errors.New("broken disk")
	tests := []struct {
		name      string
		srcs      []fakeSource
		want      string // Data.Source, "" for an error
		wantCalls []string
		wantIs    error
		wantHas   string
	}{
		{
			name:      "local before network",
			srcs:      []fakeSource{{"net", datasource.Network, nil, nil}, {"a", datasource.Local, notFound, nil}, {"b", datasource.Local, nil, nil}},
			want:      "b:x",
			wantCalls: []string{"a", "b"},
		},
		{
			name:      "network after all locals are absent",
			srcs:      []fakeSource{{"n1", datasource.Network, notFound, nil}, {"l", datasource.Local, notFound, nil}, {"n2", datasource.Network, nil, nil}},
			want:      "n2:x",
			wantCalls: []string{"l", "n1", "n2"},
		},
		{
			name:      "a failing source does not stop the search",
			srcs:      []fakeSource{{"l", datasource.Local, broken, nil}, {"n", datasource.Network, nil, nil}},
			want:      "n:x",
			wantCalls: []string{"l", "n"},
		},
		{
			name:      "all absent",
			srcs:      []fakeSource{{"l", datasource.Local, notFound, nil}, {"n", datasource.Network, notFound, nil}},
			wantCalls: []string{"l", "n"},
			wantIs:    datasource.ErrNotFound,
			wantHas:   "tried l, n",
		},
		{
			name:      "absent and broken",
			srcs:      []fakeSource{{"l", datasource.Local, broken, nil}, {"n", datasource.Network, notFound, nil}},
			wantCalls: []string{"l", "n"},
			wantIs:    broken,
			wantHas:   "l: broken disk",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			var srcs []datasource.Source
			for i := range tt.srcs {
				tt.srcs[i].calls = &calls
				srcs = append(srcs, &tt.srcs[i])
			}
			d, err := datasource.First(context.Background(), srcs, nil)
			if tt.want != "" {
				if err != nil || d.Source != tt.want {
					t.Fatalf("First() = %v, %v; want %s", d, err, tt.want)
				}
			} else {
				if err == nil || !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantHas) {
					t.Fatalf("First() error = %v, want one matching %v and containing %q", err, tt.wantIs, tt.wantHas)
				}
				if errors.Is(tt.wantIs, broken) && errors.Is(err, datasource.ErrNotFound) {
					t.Errorf("First() error = %v matches ErrNotFound, want only the real error", err)
				}
			}
			if !reflect.DeepEqual(calls, tt.wantCalls) {
				t.Errorf("First() fetched %v, want %v", calls, tt.wantCalls)
			}
		})
	}
}

func TestFirstCanceled(t *testing.T) {
	var calls []string
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := datasource.First(ctx, []datasource.Source{&fakeSource{"a", datasource.Local, nil, &calls}}, nil)
	if !errors.Is(err, context.Canceled) || len(calls) != 0 {
		t.Errorf("First(canceled) = %v after %v, want context.Canceled before any fetch", err, calls)
	}
}

// pathRecorder is a transport that records request paths.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (p *pathRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.paths = append(p.paths, r.URL.Path)
	p.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestFirstSkipsDeadAddress(t *testing.T) {
	s := serve(t, http.NotFoundHandler())
	dead := s.URL
	s.Close()
	alive := openStackServer(t, []byte("#cloud-config\n")).URL

	rec := &pathRecorder{}
	o := testHTTP(dead)
	o.Timeout = 200 * time.Millisecond
	o.Client = &http.Client{Transport: rec}
	srcs, err := datasource.FromNames([]string{"ec2", "digitalocean", "openstack:" + alive}, datasource.Options{HTTP: o})
	if err != nil {
		t.Fatal(err)
	}
	d, err := datasource.First(context.Background(), srcs, nil)
	if err != nil || d.Source != "openstack:"+alive {
		t.Fatalf("First() = %v, %v; want openstack data", d, err)
	}
	for _, p := range rec.paths {
		if strings.HasPrefix(p, "/metadata/v1") {
			t.Errorf("digitalocean was asked %s on an address ec2 found dead", p)
		}
	}
}

// levelCounter counts log records by level and message.
type levelCounter struct {
	mu sync.Mutex
	n  map[string]int // "LEVEL msg"
}

func (c *levelCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *levelCounter) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *levelCounter) WithGroup(string) slog.Handler            { return c }
func (c *levelCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[r.Level.String()+" "+r.Message]++
	return nil
}

// flaky fails with the same error until its call number reaches ok (never
// when ok is 0); with changing set, the error names the call.
type flaky struct {
	calls    int
	ok       int
	changing bool
}

func (f *flaky) Name() string          { return "flaky" }
func (f *flaky) Kind() datasource.Kind { return datasource.Network }
func (f *flaky) Fetch(context.Context) (*datasource.Data, error) {
	f.calls++
	switch {
	case f.calls == f.ok:
		return &datasource.Data{Source: "flaky", MetaData: map[string]any{}}, nil
	case f.changing:
		return nil, fmt.Errorf("403 on call %d", f.calls)
	}
	return nil, errors.New("403: unexpected HTTP status")
}

func TestPoll(t *testing.T) {
	tests := []struct {
		name      string
		src       flaky
		wantData  bool
		wantWarns string // "once", or "each": one per call
	}{
		{"the same failure warns once", flaky{}, false, "once"},
		{"a new failure warns again", flaky{changing: true}, false, "each"},
		{"data after failures", flaky{ok: 4}, true, "once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &levelCounter{n: map[string]int{}}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			src := tt.src
			d, err := datasource.Poll(ctx, []datasource.Source{&src}, slog.New(logs), 10*time.Millisecond)
			if tt.wantData != (err == nil && d != nil) {
				t.Fatalf("Poll() = %v, %v; want data %v", d, err, tt.wantData)
			}
			if !tt.wantData && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Poll() error = %v, want the deadline", err)
			}
			if src.calls < 3 {
				t.Fatalf("Poll fetched %d times, want at least 3", src.calls)
			}
			// A failure that the deadline cuts short is not logged.
			warns, again := logs.n["WARN datasource failed"], logs.n["DEBUG datasource failed again"]
			failures := src.calls
			if tt.wantData {
				failures--
			}
			logged := warns + again
			if logged != failures && logged != failures-1 {
				t.Errorf("%d failures, %d logged (%d warnings, %d debug repeats)", failures, logged, warns, again)
			}
			switch tt.wantWarns {
			case "once":
				if warns != 1 {
					t.Errorf("the same failure %d times: %d warnings, want 1", failures, warns)
				}
			case "each":
				if again != 0 {
					t.Errorf("%d changing failures: %d logged as repeats, want 0", failures, again)
				}
			}
		})
	}
}
