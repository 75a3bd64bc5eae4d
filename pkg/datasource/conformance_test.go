package datasource_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/datasource"
	"github.com/ros-os/ros/pkg/datasource/conformancetest"
)

// network builds a harness for a metadata service from a function that
// starts its fake server (nil user-data: the server has none) and one that
// makes the source from options.
func network(server func(t *testing.T, userData []byte) string, mk func(o datasource.HTTPOptions) datasource.Source) conformancetest.Harness {
	return conformancetest.Harness{
		Present: func(t *testing.T, ud []byte) datasource.Source { return mk(testHTTP(server(t, ud))) },
		Absent:  func(t *testing.T) datasource.Source { return mk(testHTTP(notFoundServer(t).URL)) },
		Stalled: func(t *testing.T, timeout time.Duration) datasource.Source { return mk(stalledOpts(t, timeout)) },
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	harnesses := map[string]conformancetest.Harness{
		"file": {
			Present: func(t *testing.T, ud []byte) datasource.Source {
				p := filepath.Join(t.TempDir(), "user-data")
				writeFile(t, p, ud)
				return &datasource.File{Path: p}
			},
			Absent: func(t *testing.T) datasource.Source {
				return &datasource.File{Path: filepath.Join(t.TempDir(), "missing")}
			},
		},
		"url": {
			Present: func(t *testing.T, ud []byte) datasource.Source {
				s := pathServer(t, "", "", map[string][]byte{"/cc.yml": ud})
				return &datasource.URL{URL: s.URL + "/cc.yml", HTTP: testHTTP("")}
			},
			Absent: func(t *testing.T) datasource.Source {
				return &datasource.URL{URL: notFoundServer(t).URL + "/cc.yml", HTTP: testHTTP("")}
			},
			Stalled: func(t *testing.T, timeout time.Duration) datasource.Source {
				o := stalledOpts(t, timeout)
				return &datasource.URL{URL: o.BaseURL + "/cc.yml", HTTP: o}
			},
		},
		"cmdline-b64": {
			Present: func(t *testing.T, ud []byte) datasource.Source {
				return &datasource.Cmdline{Line: "console=ttyS0 ros.config.b64=" + base64.StdEncoding.EncodeToString(ud) + " quiet"}
			},
			Absent: func(t *testing.T) datasource.Source {
				return &datasource.Cmdline{Line: "console=ttyS0 quiet ros.state=LABEL=ROS_STATE"}
			},
		},
		"cmdline-url": {
			Present: func(t *testing.T, ud []byte) datasource.Source {
				s := pathServer(t, "", "", map[string][]byte{"/cc.yml": ud})
				return &datasource.Cmdline{Line: "quiet ros.config.url=" + s.URL + "/cc.yml", HTTP: testHTTP("")}
			},
			Absent: func(t *testing.T) datasource.Source {
				return &datasource.Cmdline{Line: "quiet ros.config.url=" + notFoundServer(t).URL + "/cc.yml", HTTP: testHTTP("")}
			},
			Stalled: func(t *testing.T, timeout time.Duration) datasource.Source {
				o := stalledOpts(t, timeout)
				return &datasource.Cmdline{Line: "ros.config.url=" + o.BaseURL + "/cc.yml", HTTP: o}
			},
		},
		"nocloud": {
			Present: func(t *testing.T, ud []byte) datasource.Source {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "user-data"), ud)
				writeFile(t, filepath.Join(dir, "meta-data"), readTestdata(t, "nocloud/meta-data"))
				return &datasource.NoCloud{Finder: datasource.DirFinder{"CIDATA": dir}}
			},
			Absent: func(t *testing.T) datasource.Source {
				return &datasource.NoCloud{Finder: datasource.DirFinder{"config-2": t.TempDir()}}
			},
		},
		"configdrive": {
			Present: func(t *testing.T, ud []byte) datasource.Source {
				dir := t.TempDir()
				latest := filepath.Join(dir, "openstack", "latest")
				writeFile(t, filepath.Join(latest, "user_data"), ud)
				writeFile(t, filepath.Join(latest, "meta_data.json"), readTestdata(t, "configdrive/openstack/latest/meta_data.json"))
				return &datasource.ConfigDrive{Finder: datasource.DirFinder{"config-2": dir}}
			},
			Absent: func(t *testing.T) datasource.Source {
				return &datasource.ConfigDrive{Finder: datasource.DirFinder{"cidata": t.TempDir()}}
			},
		},
		"ec2-imdsv2": network(func(t *testing.T, ud []byte) string {
			return serve(t, &ec2Server{userData: ud, imdsV2: true, requireV2: true, token: "tok-123"}).URL
		}, func(o datasource.HTTPOptions) datasource.Source { return &datasource.EC2{HTTP: o} }),
		"ec2-imdsv1": network(func(t *testing.T, ud []byte) string {
			return serve(t, &ec2Server{userData: ud}).URL
		}, func(o datasource.HTTPOptions) datasource.Source { return &datasource.EC2{HTTP: o} }),
		"digitalocean": network(func(t *testing.T, ud []byte) string { return digitalOceanServer(t, ud).URL },
			func(o datasource.HTTPOptions) datasource.Source { return &datasource.DigitalOcean{HTTP: o} }),
		"hetzner": network(func(t *testing.T, ud []byte) string { return hetznerServer(t, ud).URL },
			func(o datasource.HTTPOptions) datasource.Source { return &datasource.Hetzner{HTTP: o} }),
		"gce": network(func(t *testing.T, ud []byte) string {
			return serve(t, &gceServer{t: t, doc: gceDoc(t, ud), flavor: true}).URL
		}, func(o datasource.HTTPOptions) datasource.Source { return &datasource.GCE{HTTP: o} }),
		"vultr-json": network(func(t *testing.T, ud []byte) string { return vultrServer(t, ud, true).URL },
			func(o datasource.HTTPOptions) datasource.Source { return &datasource.Vultr{HTTP: o} }),
		"vultr-path": network(func(t *testing.T, ud []byte) string { return vultrServer(t, ud, false).URL },
			func(o datasource.HTTPOptions) datasource.Source { return &datasource.Vultr{HTTP: o} }),
		"openstack": network(func(t *testing.T, ud []byte) string { return openStackServer(t, ud).URL },
			func(o datasource.HTTPOptions) datasource.Source { return &datasource.OpenStack{HTTP: o} }),
	}
	for name, h := range harnesses {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conformancetest.Run(t, h)
		})
	}
}
