package fetch

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseSource(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "a:b.tar") // a path with a colon, existing
	if err := os.WriteFile(arch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rel := "ros-local.bundle"
	tests := []struct {
		src  string
		want Source
	}{
		{"https://example.com/ros.bundle", Source{Kind: KindHTTP, URL: "https://example.com/ros.bundle"}},
		{"http://10.0.2.2:8080/x", Source{Kind: KindHTTP, URL: "http://10.0.2.2:8080/x"}},
		{"file:///srv/ros.bundle", Source{Kind: KindFile, Path: "/srv/ros.bundle"}},
		{"/srv/ros.bundle", Source{Kind: KindFile, Path: "/srv/ros.bundle"}},
		{"./out/ros.bundle", Source{Kind: KindFile, Path: "./out/ros.bundle"}},
		{"out/ros.bundle", Source{Kind: KindFile, Path: "out/ros.bundle"}},
		{rel, Source{Kind: KindFile, Path: rel}},
		{"oci-archive:/srv/ros.tar", Source{Kind: KindOCIArchive, Path: "/srv/ros.tar"}},
		{"oci-archive:/srv/ros.tar:v2", Source{Kind: KindOCIArchive, Path: "/srv/ros.tar", Ref: "v2"}},
		{"oci-archive:" + arch, Source{Kind: KindOCIArchive, Path: arch}},
		{"registry.example.com/ros/bundle:v2", Source{Kind: KindRegistry, Ref: "registry.example.com/ros/bundle:v2"}},
		{"localhost:5000/ros:v2", Source{Kind: KindRegistry, Ref: "localhost:5000/ros:v2"}},
		{"docker://ghcr.io/ros-os/bundle:v2", Source{Kind: KindRegistry, Ref: "ghcr.io/ros-os/bundle:v2"}},
	}
	for _, tt := range tests {
		got, err := ParseSource(tt.src)
		if err != nil || got != tt.want {
			t.Errorf("ParseSource(%q) = %+v, %v; want %+v", tt.src, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "docker://UPPER/Case:x:y"} {
		if got, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) = %+v, want an error", bad, got)
		}
	}
}
