package channel

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sha = "5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f"

const index = `{"name": "stable", "versions": [
  {"version": "v1", "url": "ros-v1.bundle", "size": 100, "sha256": "` + sha + `", "arch": "amd64", "buildTime": "2025-01-01T00:00:00Z"},
  {"version": "v10", "url": "bundles/ros-v10.bundle", "size": 300, "arch": "amd64"},
  {"version": "v2", "url": "/abs/ros-v2.bundle", "size": 200, "arch": "amd64"},
  {"version": "v11", "url": "https://cdn.example.com/ros-v11-arm64.bundle", "arch": "arm64"},
  {"version": "v3", "url": "docker://registry.example.com/ros:v3", "arch": "amd64-rpi"},
  {"version": "v4", "url": "oci-archive:/srv/ros-v4.tar:v4", "arch": "riscv64"}
]}`

func TestLoadHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/channels/stable.json" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(index)) // a failed write is the client's to see
	}))
	defer srv.Close()
	src := srv.URL + "/channels/stable.json"
	idx, err := Load(context.Background(), srv.Client(), src)
	if err != nil {
		t.Fatalf("Load(%s): %v", src, err)
	}
	if idx.Name != "stable" || len(idx.Versions) != 6 || idx.Source != src {
		t.Errorf("Load() = %q with %d versions from %q, want stable with 6 from %s", idx.Name, len(idx.Versions), idx.Source, src)
	}
	wantURLs := map[string]string{
		"v1":  srv.URL + "/channels/ros-v1.bundle",
		"v10": srv.URL + "/channels/bundles/ros-v10.bundle",
		"v2":  srv.URL + "/abs/ros-v2.bundle",
		"v11": "https://cdn.example.com/ros-v11-arm64.bundle",
		"v3":  "docker://registry.example.com/ros:v3",
		"v4":  "oci-archive:/srv/ros-v4.tar:v4",
	}
	for _, e := range idx.Versions {
		if e.URL != wantURLs[e.Version] {
			t.Errorf("entry %s URL = %q, want %q", e.Version, e.URL, wantURLs[e.Version])
		}
	}
	latest, err := idx.Latest("amd64")
	if err != nil || latest.Version != "v10" {
		t.Errorf("Latest(amd64) = %s, %v; want v10 (semver order, not string order)", latest.Version, err)
	}
	if e, err := idx.Find("v1", "amd64"); err != nil || e.Size != 100 || e.SHA256 != sha || e.BuildTime.Year() != 2025 {
		t.Errorf("Find(v1, amd64) = %+v, %v; want size 100, the sha256 and a build time", e, err)
	}
	if _, err := idx.Find("v11", "amd64"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), src) || !strings.Contains(err.Error(), "v10/amd64") {
		t.Errorf("Find(v11, amd64) = %v, want ErrNotFound naming the channel and its versions", err)
	}
	if _, err := idx.Latest("s390x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest(s390x) = %v, want ErrNotFound", err)
	}
	if got := idx.List("amd64"); len(got) != 3 || got[0].Version != "v10" || got[2].Version != "v1" {
		t.Errorf("List(amd64) = %v, want v10, v2, v1", got)
	}

	_, err = Load(context.Background(), srv.Client(), srv.URL+"/missing.json")
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/missing.json") || !strings.Contains(err.Error(), "404") {
		t.Errorf("Load(missing) = %v, want an error naming the URL and 404", err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "stable.json")
	if err := os.WriteFile(p, []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{p, "file://" + p} {
		idx, err := Load(context.Background(), nil, src)
		if err != nil {
			t.Fatalf("Load(%s): %v", src, err)
		}
		e, err := idx.Find("v10", "amd64")
		want := filepath.Join(dir, "bundles", "ros-v10.bundle")
		if src != p {
			want = "file://" + want
		}
		if err != nil || e.URL != want {
			t.Errorf("Load(%s).Find(v10) URL = %q, %v; want %q", src, e.URL, err, want)
		}
		if e, _ := idx.Find("v2", "amd64"); !strings.HasSuffix(e.URL, "/abs/ros-v2.bundle") {
			t.Errorf("Load(%s).Find(v2) URL = %q, want the absolute path kept", src, e.URL)
		}
	}
	if _, err := Load(context.Background(), nil, filepath.Join(dir, "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("Load(missing file) = %v, want an error naming it", err)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, json, says string
	}{
		{"not json", `{`, "channel src.json"},
		{"versions not a list", `{"versions": {}}`, "channel src.json"},
		{"no version", `{"versions": [{"url": "x", "arch": "amd64"}]}`, "versions[0].version"},
		{"no url", `{"versions": [{"version": "v1", "arch": "amd64"}]}`, "versions[0].url"},
		{"no arch", `{"versions": [{"version": "v1", "url": "x"}]}`, "versions[0].arch"},
		{"negative size", `{"versions": [{"version": "v1", "url": "x", "arch": "amd64", "size": -1}]}`, "versions[0].size"},
		{"bad sha256", `{"versions": [{"version": "v1", "url": "x", "arch": "amd64"}, {"version": "v2", "url": "x", "arch": "amd64", "sha256": "XYZ"}]}`, "versions[1].sha256"},
		{"bad time", `{"versions": [{"version": "v1", "url": "x", "arch": "amd64", "buildTime": "soon"}]}`, "channel src.json"},
		{"duplicate", `{"versions": [{"version": "v1", "url": "x", "arch": "amd64"}, {"version": "v1", "url": "y", "arch": "amd64"}]}`, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json), "src.json")
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Parse(%s) = %v, want ErrFormat naming %q", tt.name, err, tt.says)
			}
		})
	}
}

func TestLoadCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, srv.Client(), srv.URL); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled) = %v, want context.Canceled", err)
	}
}

// FuzzParse: Parse never panics; an accepted index has checked entries and
// Latest and Find work on it.
func FuzzParse(f *testing.F) {
	f.Add([]byte(index))
	f.Add([]byte(`{"versions": []}`))
	f.Add([]byte(`{"versions": [{"version": "v1", "url": "../x", "arch": "a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := Parse(data, "https://example.com/ch/index.json")
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse() = %v, want ErrFormat", err)
			}
			return
		}
		for _, e := range idx.Versions {
			if e.Version == "" || e.Arch == "" || e.URL == "" || e.Size < 0 {
				t.Fatalf("Parse() accepted %+v", e)
			}
			if got, err := idx.Find(e.Version, e.Arch); err != nil || got.URL != e.URL {
				t.Fatalf("Find(%s, %s) = %v, %v", e.Version, e.Arch, got, err)
			}
			if _, err := idx.Latest(e.Arch); err != nil {
				t.Fatalf("Latest(%s) = %v", e.Arch, err)
			}
		}
	})
}
