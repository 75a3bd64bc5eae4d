package datasource

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/cmdline"
)

// Fuzz targets for the response parsers, seeded from testdata. They check
// that no input panics and that a success always carries what callers rely
// on.

func seed(f *testing.F, paths ...string) {
	f.Helper()
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkData(t *testing.T, d *Data, err error) {
	t.Helper()
	if err != nil {
		return
	}
	if d == nil || d.MetaData == nil {
		t.Fatalf("parse succeeded with Data %v, want MetaData set", d)
	}
	if d.InstanceID() == "" {
		t.Fatalf("parse succeeded without an instance-id: %v", d.MetaData)
	}
	if d.NetworkConfig != nil && d.NetworkFormat == "" {
		t.Fatalf("NetworkConfig without NetworkFormat")
	}
	checkKeys(t, d)
}

// checkKeys asserts that public keys are single trimmed lines, not
// comments: each becomes one line of authorized_keys. (A '\r' inside a
// key is left alone: it ends no line there.)
func checkKeys(t *testing.T, d *Data) {
	t.Helper()
	if v, ok := d.MetaData[MetaPublicKeys]; ok {
		if _, ok := v.([]string); !ok {
			t.Fatalf("public-keys is %T, want []string", v)
		}
	}
	for _, k := range d.PublicKeys() {
		if k == "" || k != strings.TrimSpace(k) || strings.Contains(k, "\n") || strings.HasPrefix(k, "#") {
			t.Fatalf("public key %q is not one trimmed line that is not a comment", k)
		}
	}
}

func FuzzParseDigitalOcean(f *testing.F) {
	seed(f, "digitalocean/v1.json")
	f.Add([]byte(`{"droplet_id": "x", "public_keys": "ssh-rsa A\nssh-rsa B"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseDigitalOcean(b)
		checkData(t, d, err)
	})
}

func FuzzParseGCE(f *testing.F) {
	seed(f, "gce/recursive.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseGCE(b)
		checkData(t, d, err)
	})
}

func FuzzParseOpenStackMeta(f *testing.F) {
	seed(f, "configdrive/openstack/latest/meta_data.json", "configdrive/openstack/2012-08-10/meta_data.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := parseOpenStackMeta(b)
		if err == nil && md == nil {
			t.Fatal("parseOpenStackMeta succeeded with nil metadata")
		}
		_, _ = parseOpenStackVendor(b)
	})
}

func FuzzParseVultr(f *testing.F) {
	seed(f, "vultr/v1.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseVultr(b)
		checkData(t, d, err)
	})
}

func FuzzParseHetzner(f *testing.F) {
	seed(f, "hetzner/metadata.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseHetzner(b)
		checkData(t, d, err)
	})
}

func FuzzParseNoCloudMeta(f *testing.F) {
	seed(f, "nocloud/meta-data")
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := parseNoCloudMeta(b)
		if err == nil && md == nil {
			t.Fatal("parseNoCloudMeta succeeded with nil metadata")
		}
		if keys, ok := md[MetaPublicKeys]; ok {
			if _, ok := keys.([]string); !ok {
				t.Fatalf("public-keys is %T, want []string", keys)
			}
		}
	})
}

func FuzzParseEC2KeyList(f *testing.F) {
	seed(f, "ec2/public-keys")
	f.Add([]byte("0=a\n0=b\n10/\n2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := parseEC2KeyList(b)
		if err != nil {
			return
		}
		for i, n := range idx {
			if n < 0 || (i > 0 && idx[i-1] >= n) {
				t.Fatalf("parseEC2KeyList(%q) = %v, want distinct increasing non-negative indexes", b, idx)
			}
		}
	})
}

// FuzzEC2 runs the EC2 source against a metadata server whose answers are
// the fuzz inputs: the IMDSv2 token (empty: refused, IMDSv1), instance-id,
// the public-keys listing, every key's body and user-data. Fetch must not
// panic, and a success carries what the server said.
func FuzzEC2(f *testing.F) {
	keys, err := os.ReadFile(filepath.Join("testdata", "ec2", "public-keys"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("AQAEAtoken==", []byte("i-0123456789abcdef0"), keys, []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@ec2\n"), []byte("#cloud-config\n"))
	f.Add("", []byte("i-1\n"), []byte("0=a\n0=b\n10/\n2\n"), []byte("# comment\nssh-rsa A\n\nssh-rsa B"), []byte(nil))
	f.Add("t", []byte(""), []byte("x"), []byte(""), []byte("\x1f\x8b"))
	// One server for every input (a server per input costs most of the
	// time); it answers with the input being run.
	type answers struct {
		token               string
		id, list, key, user []byte
	}
	var cur atomic.Pointer[answers]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := cur.Load()
		if r.URL.Path == "/latest/api/token" {
			if a.token == "" {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			_, _ = w.Write([]byte(a.token))
			return
		}
		var body []byte
		switch p := r.URL.Path; {
		case p == "/latest/meta-data/instance-id":
			body = a.id
		case p == "/latest/meta-data/public-keys/":
			body = a.list
		case strings.HasPrefix(p, "/latest/meta-data/public-keys/") && strings.HasSuffix(p, "/openssh-key"):
			body = a.key
		case p == "/latest/user-data" && a.user != nil:
			body = a.user
		default:
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, token string, id, list, key, user []byte) {
		cur.Store(&answers{token: token, id: id, list: list, key: key, user: user})
		opts := HTTPOptions{BaseURL: srv.URL, Timeout: 10 * time.Second, RequestTimeout: 5 * time.Second,
			MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
		d, err := (&EC2{HTTP: opts}).Fetch(context.Background())
		if err != nil {
			return
		}
		if d.MetaData == nil || !strings.HasPrefix(d.Source, "ec2:") {
			t.Fatalf("EC2.Fetch() = %+v, want MetaData and an ec2: source", d)
		}
		if got, want := d.InstanceID(), strings.TrimSpace(string(id)); got != want {
			t.Fatalf("EC2.Fetch() instance-id %q, want %q", got, want)
		}
		if !bytes.Equal(d.UserData, nilIfEmpty(user)) {
			t.Fatalf("EC2.Fetch() user-data %q, want %q", d.UserData, user)
		}
		idx, err := parseEC2KeyList(list)
		if err != nil {
			t.Fatalf("EC2.Fetch() succeeded with a bad public-keys listing %q: %v", list, err)
		}
		if want := len(idx) * len(anyKeys(string(key))); len(d.PublicKeys()) != want {
			t.Fatalf("EC2.Fetch() found %d public keys, want %d", len(d.PublicKeys()), want)
		}
		checkKeys(t, d)
	})
}

// FuzzCmdline reads user-data from a kernel command line (ros.config.b64).
// Lines naming ros.config.url are left out: fetching is not parsing. A
// success holds exactly the base64 the line carried.
func FuzzCmdline(f *testing.F) {
	for _, s := range []string{
		"ros.config.b64=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogYjY0Cg==",
		"ros.config.b64=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogYjY0Cg",
		"ros.config.b64=I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogYjY0Cg-_",
		`"ros.config.b64= I2Nsb3VkLWNvbmZpZwo= "`,
		"ros.config.b64=%%% quiet",
		"ros.config.b64=",
		"console=ttyS0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c := cmdline.Parse(line)
		if c.Has(ParamConfigURL) || strings.TrimSpace(line) == "" {
			return
		}
		d, err := (&Cmdline{Line: line}).Fetch(context.Background())
		v, ok := c.Get(ParamConfigB64)
		if !ok {
			if err == nil {
				t.Fatalf("Cmdline{%q}.Fetch() succeeded without %s", line, ParamConfigB64)
			}
			return
		}
		if err != nil {
			return
		}
		if d.MetaData == nil {
			t.Fatalf("Cmdline{%q}.Fetch() = %+v, want MetaData", line, d)
		}
		again := base64.StdEncoding.EncodeToString(d.UserData)
		if back, err := decodeBase64(again); err != nil || !bytes.Equal(back, d.UserData) {
			t.Fatalf("decodeBase64(%q) = %q, %v; want %q", again, back, err, d.UserData)
		}
		if len(d.UserData) == 0 && strings.Trim(v, " =\t\n") != "" {
			t.Fatalf("Cmdline{%q}.Fetch() decoded %q to nothing", line, v)
		}
	})
}
