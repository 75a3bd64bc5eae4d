package datasource_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/datasource"
)

// Fake metadata servers mimicking each provider's paths and headers. Each
// answers 404 for anything it does not know, as the real ones do.

// testHTTP are options with short waits, for servers on loopback.
func testHTTP(base string) datasource.HTTPOptions {
	return datasource.HTTPOptions{
		BaseURL:        base,
		Timeout:        20 * time.Second,
		RequestTimeout: 5 * time.Second,
		MinBackoff:     5 * time.Millisecond,
		MaxBackoff:     50 * time.Millisecond,
	}
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// stallServer accepts requests and never answers until the client gives up.
func stallServer(t *testing.T) *httptest.Server {
	t.Helper()
	stop := make(chan struct{})
	s := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop) }) // runs before s.Close
	return s
}

// notFoundServer is a metadata server of some other kind: 404 everywhere.
func notFoundServer(t *testing.T) *httptest.Server {
	return serve(t, http.NotFoundHandler())
}

func stalledOpts(t *testing.T, timeout time.Duration) datasource.HTTPOptions {
	o := testHTTP(stallServer(t).URL)
	o.Timeout = timeout
	o.RequestTimeout = 100 * time.Millisecond
	return o
}

func readTestdata(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonWith returns the testdata JSON object at path with key set to value
// (or removed when value is nil); dotted keys walk into objects.
func jsonWith(t *testing.T, path, key string, value any) []byte {
	t.Helper()
	return jsonSet(t, readTestdata(t, path), key, value)
}

// jsonSet is jsonWith on a document in memory.
func jsonSet(t *testing.T, doc []byte, key string, value any) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	obj := m
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	if value == nil {
		delete(obj, parts[len(parts)-1])
	} else {
		obj[parts[len(parts)-1]] = value
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ec2Server mimics the EC2 instance metadata service.
type ec2Server struct {
	userData  []byte
	imdsV2    bool // accepts PUT /latest/api/token
	requireV2 bool // refuses GETs without the token (IMDSv2 required)
	token     string
	puts      atomic.Int32 // token requests
	tokenGets atomic.Int32 // GETs that carried the token
}

func (e *ec2Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/latest/api/token" {
		if !e.imdsV2 || r.Method != http.MethodPut {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "missing ttl", http.StatusBadRequest)
			return
		}
		e.puts.Add(1)
		_, _ = w.Write([]byte(e.token))
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch tok := r.Header.Get("X-aws-ec2-metadata-token"); {
	case tok == e.token && e.imdsV2:
		e.tokenGets.Add(1)
	case tok != "":
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	case e.requireV2:
		http.Error(w, "token required", http.StatusUnauthorized)
		return
	}
	files := map[string]string{
		"/latest/meta-data/instance-id":                 "i-0123456789abcdef0",
		"/latest/meta-data/local-hostname":              "ip-10-0-0-1.ec2.internal",
		"/latest/meta-data/placement/availability-zone": "us-east-1a",
		"/latest/meta-data/public-keys/":                "0=alice\n1=bob",
		"/latest/meta-data/public-keys/0/openssh-key":   "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@ec2\n",
		"/latest/meta-data/public-keys/1/openssh-key":   "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQBob bob@ec2\n",
	}
	if e.userData != nil {
		files["/latest/user-data"] = string(e.userData)
	}
	body, ok := files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write([]byte(body))
}

// gceServer mimics the GCE metadata server: Metadata-Flavor: Google is
// required on requests and sent on answers.
type gceServer struct {
	t       *testing.T
	doc     []byte
	flavor  bool // answer with Metadata-Flavor
	flavors atomic.Int32
}

func (g *gceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.flavor {
		w.Header().Set("Metadata-Flavor", "Google")
	}
	if r.Header.Get("Metadata-Flavor") != "Google" {
		http.Error(w, "Missing Metadata-Flavor:Google header.", http.StatusForbidden)
		return
	}
	g.flavors.Add(1)
	if r.URL.Path != "/computeMetadata/v1/" || r.URL.Query().Get("recursive") != "true" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(g.doc)
}

// pathServer answers fixed paths with fixed bodies; a header, when given,
// must be on every request.
func pathServer(t *testing.T, header, value string, files map[string][]byte) *httptest.Server {
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if header != "" && r.Header.Get(header) != value {
			http.Error(w, "missing "+header, http.StatusForbidden)
			return
		}
		body, ok := files[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
}

func digitalOceanServer(t *testing.T, userData []byte) *httptest.Server {
	var ud any
	if userData != nil {
		ud = string(userData)
	}
	return pathServer(t, "", "", map[string][]byte{"/metadata/v1.json": jsonWith(t, "digitalocean/v1.json", "user_data", ud)})
}

func hetznerServer(t *testing.T, userData []byte) *httptest.Server {
	files := map[string][]byte{"/hetzner/v1/metadata": readTestdata(t, "hetzner/metadata.yaml")}
	if userData != nil {
		files["/hetzner/v1/userdata"] = userData
	}
	return pathServer(t, "", "", files)
}

func vultrServer(t *testing.T, userData []byte, inJSON bool) *httptest.Server {
	files := map[string][]byte{"/v1.json": readTestdata(t, "vultr/v1.json")}
	if inJSON {
		files["/v1.json"] = jsonWith(t, "vultr/v1.json", "user-data", string(userData))
	} else if userData != nil {
		files["/latest/user-data"] = userData
	}
	return pathServer(t, "Metadata-Token", "cloudinit", files)
}

func openStackServer(t *testing.T, userData []byte) *httptest.Server {
	dir := "configdrive/openstack/latest/"
	files := map[string][]byte{
		"/openstack/latest/meta_data.json":    readTestdata(t, dir+"meta_data.json"),
		"/openstack/latest/vendor_data.json":  readTestdata(t, dir+"vendor_data.json"),
		"/openstack/latest/network_data.json": readTestdata(t, dir+"network_data.json"),
	}
	if userData != nil {
		files["/openstack/latest/user_data"] = userData
	}
	return pathServer(t, "", "", files)
}

func gceDoc(t *testing.T, userData []byte) []byte {
	var ud any
	if userData != nil {
		ud = string(userData)
	}
	return jsonWith(t, "gce/recursive.json", "instance.attributes.user-data", ud)
}
