package datasource_test

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ros-os/ros/pkg/datasource"
)

// want is the part of Data a provider test checks.
type want struct {
	id, host, zone, region string
	keys                   []string
	userData, vendorData   string
	networkFormat          string
	networkHas             string // substring NetworkConfig must hold
}

func check(t *testing.T, src datasource.Source, w want) *datasource.Data {
	t.Helper()
	d, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatalf("%s.Fetch() error = %v", src.Name(), err)
	}
	got := want{
		id: d.InstanceID(), host: d.Hostname(), keys: d.PublicKeys(),
		zone:     str(d.MetaData[datasource.MetaZone]),
		region:   str(d.MetaData[datasource.MetaRegion]),
		userData: string(d.UserData), vendorData: string(d.VendorData),
		networkFormat: d.NetworkFormat, networkHas: w.networkHas,
	}
	if !strings.Contains(string(d.NetworkConfig), w.networkHas) {
		got.networkHas = string(d.NetworkConfig)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s.Fetch() =\n%+v\nwant\n%+v", src.Name(), got, w)
	}
	return d
}

func str(v any) string { s, _ := v.(string); return s }

func TestEC2TokenDance(t *testing.T) {
	e := &ec2Server{userData: []byte("#cloud-config\n"), imdsV2: true, requireV2: true, token: "AQAEAtoken=="}
	s := serve(t, e)
	check(t, &datasource.EC2{HTTP: testHTTP(s.URL)}, want{
		id: "i-0123456789abcdef0", host: "ip-10-0-0-1.ec2.internal", zone: "us-east-1a",
		keys: []string{
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@ec2",
			"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQBob bob@ec2",
		},
		userData: "#cloud-config\n",
	})
	if n := e.puts.Load(); n != 1 {
		t.Errorf("token PUTs = %d, want 1", n)
	}
	// instance-id, local-hostname, zone, region, public-keys/, 2 keys, user-data
	if n := e.tokenGets.Load(); n != 8 {
		t.Errorf("GETs carrying the token = %d, want 8", n)
	}
}

func TestEC2V1Fallback(t *testing.T) {
	e := &ec2Server{imdsV2: false}
	s := serve(t, e)
	d := check(t, &datasource.EC2{HTTP: testHTTP(s.URL)}, want{
		id: "i-0123456789abcdef0", host: "ip-10-0-0-1.ec2.internal", zone: "us-east-1a",
		keys: []string{
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@ec2",
			"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQBob bob@ec2",
		},
	})
	if d.UserData != nil {
		t.Errorf("EC2 without user-data: UserData = %q, want nil", d.UserData)
	}
	if e.puts.Load() != 0 || e.tokenGets.Load() != 0 {
		t.Errorf("v1 server saw %d token PUTs and %d token GETs, want 0 and 0", e.puts.Load(), e.tokenGets.Load())
	}
}

func TestGCE(t *testing.T) {
	g := &gceServer{t: t, doc: gceDoc(t, []byte("#cloud-config\nhostname: g\n")), flavor: true}
	s := serve(t, g)
	check(t, &datasource.GCE{HTTP: testHTTP(s.URL)}, want{
		id: "4630178217123456789", host: "gce-test.c.my-project.internal", zone: "europe-west1-b",
		keys: []string{
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGceInstanceKey alice@laptop",
			`ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQGceBob google-ssh {"userName":"bob"}`,
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGceProjectKey carol@desk",
		},
		userData: "#cloud-config\nhostname: g\n",
	})
	if g.flavors.Load() == 0 {
		t.Errorf("GCE server saw no request with Metadata-Flavor: Google")
	}
}

func TestGCEBase64AndBlockedProjectKeys(t *testing.T) {
	doc := jsonWithAll(t, "gce/recursive.json", map[string]any{
		"instance.attributes.user-data":              base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n")),
		"instance.attributes.user-data-encoding":     "base64",
		"instance.attributes.block-project-ssh-keys": "TRUE",
	})
	s := serve(t, &gceServer{t: t, doc: doc, flavor: true})
	d := check(t, &datasource.GCE{HTTP: testHTTP(s.URL)}, want{
		id: "4630178217123456789", host: "gce-test.c.my-project.internal", zone: "europe-west1-b",
		keys: []string{
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGceInstanceKey alice@laptop",
			`ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQGceBob google-ssh {"userName":"bob"}`,
		},
		userData: "#!/bin/sh\n",
	})
	if d.MetaData[datasource.MetaPublicKeys] == nil {
		t.Errorf("MetaData[%s] missing", datasource.MetaPublicKeys)
	}
}

func TestGCEWithoutFlavorIsNotGCE(t *testing.T) {
	s := serve(t, &gceServer{t: t, doc: gceDoc(t, nil), flavor: false})
	_, err := (&datasource.GCE{HTTP: testHTTP(s.URL)}).Fetch(context.Background())
	if !errors.Is(err, datasource.ErrNotFound) {
		t.Errorf("GCE.Fetch() from a server without Metadata-Flavor = %v, want ErrNotFound", err)
	}
}

func TestDigitalOcean(t *testing.T) {
	d := check(t, &datasource.DigitalOcean{HTTP: testHTTP(digitalOceanServer(t, []byte("#cloud-config\n")).URL)}, want{
		id: "2756294", host: "sample-droplet", region: "nyc3",
		keys: []string{
			"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDOKeyOne do@one",
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDOKeyTwo do@two",
		},
		userData: "#cloud-config\n", vendorData: "#cloud-config\ndisable_root: false\n",
	})
	if _, ok := d.MetaData["interfaces"].(map[string]any); !ok {
		t.Errorf("DigitalOcean MetaData[interfaces] = %T, want the decoded object", d.MetaData["interfaces"])
	}
}

func TestHetzner(t *testing.T) {
	ud := []byte("#cloud-config\nhostname: h\n")
	for name, served := range map[string][]byte{"plain": ud, "base64": []byte(base64.StdEncoding.EncodeToString(ud))} {
		t.Run(name, func(t *testing.T) {
			check(t, &datasource.Hetzner{HTTP: testHTTP(hetznerServer(t, served).URL)}, want{
				id: "12345678", host: "hetzner-test", region: "eu-central", zone: "fsn1-dc14",
				keys:     []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHetznerKey me@laptop"},
				userData: string(ud), vendorData: "#cloud-config\nruncmd: []\n",
				networkFormat: datasource.NetworkCloudInit, networkHas: "name: eth0",
			})
		})
	}
}

func TestVultr(t *testing.T) {
	check(t, &datasource.Vultr{HTTP: testHTTP(vultrServer(t, []byte("#cloud-config\n"), false).URL)}, want{
		id: "6c7dc364-ad4b-4a7e-bd93-1b9bc14a0b42", host: "vultr-test", region: "EWR",
		keys:     []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIVultrKey me@vultr"},
		userData: "#cloud-config\n",
	})
}

var openStackWant = want{
	id: "83679162-1378-4288-a2d4-70e13ec132aa", host: "cd-test.novalocal", zone: "nova",
	keys:          []string{"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQConfigDriveKey nova@key"},
	userData:      "#cloud-config\nhostname: from-config-drive\n",
	vendorData:    "#cloud-config\npackage_upgrade: false\n",
	networkFormat: datasource.NetworkOpenStack, networkHas: `"ipv4_dhcp"`,
}

func TestOpenStack(t *testing.T) {
	ud := readTestdata(t, "configdrive/openstack/latest/user_data")
	check(t, &datasource.OpenStack{HTTP: testHTTP(openStackServer(t, ud).URL)}, openStackWant)
}

func TestConfigDriveTestdata(t *testing.T) {
	d := check(t, &datasource.ConfigDrive{Dir: "testdata/configdrive"}, openStackWant)
	if d.Source != "configdrive:testdata/configdrive" {
		t.Errorf("Source = %q, want configdrive:testdata/configdrive", d.Source)
	}
}

func TestConfigDriveDatedVersion(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/openstack/2012-08-10/meta_data.json", []byte(`{"uuid": "old"}`))
	writeFile(t, dir+"/openstack/2015-10-15/meta_data.json", []byte(`{"uuid": "new"}`))
	writeFile(t, dir+"/openstack/content/0000", []byte("x"))
	check(t, &datasource.ConfigDrive{Dir: dir}, want{id: "new"})
}

func TestNoCloudTestdata(t *testing.T) {
	d := check(t, &datasource.NoCloud{Finder: datasource.DirFinder{"cidata": "testdata/nocloud"}}, want{
		id: "iid-nocloud-01", host: "seed-host",
		keys: []string{
			"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMetaKeyOne one@host",
			"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQMetaKeyTwo two@host",
		},
		userData:      string(readTestdata(t, "nocloud/user-data")),
		networkFormat: datasource.NetworkCloudInit, networkHas: "dhcp4: true",
	})
	if d.Source != "nocloud:testdata/nocloud" {
		t.Errorf("Source = %q, want nocloud:testdata/nocloud", d.Source)
	}
}

func TestNoCloudMetaOnlyAndBadMeta(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/meta-data", []byte("instance-id: 42\n"))
	d := check(t, &datasource.NoCloud{Dir: dir}, want{id: "42"})
	if d.UserData != nil {
		t.Errorf("UserData = %q, want nil", d.UserData)
	}
	writeFile(t, dir+"/meta-data", []byte("instance-id: [unclosed\n"))
	_, err := (&datasource.NoCloud{Dir: dir}).Fetch(context.Background())
	if err == nil || errors.Is(err, datasource.ErrNotFound) || !strings.Contains(err.Error(), "meta-data") {
		t.Errorf("NoCloud.Fetch() with broken meta-data = %v, want a real error naming meta-data", err)
	}
}

func TestCmdlineBase64Variants(t *testing.T) {
	ud := []byte("#cloud-config\nhostname: ??>>\n") // '+' and '/' in the standard alphabet
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		line := "ros.config.b64=" + enc.EncodeToString(ud)
		d, err := (&datasource.Cmdline{Line: line}).Fetch(context.Background())
		if err != nil || string(d.UserData) != string(ud) {
			t.Errorf("Cmdline{%q}.Fetch() = %v, %v; want %q", line, d, err, ud)
		}
	}
	_, err := (&datasource.Cmdline{Line: "ros.config.b64=***"}).Fetch(context.Background())
	if err == nil || errors.Is(err, datasource.ErrNotFound) {
		t.Errorf("Cmdline with bad base64: error = %v, want a real error", err)
	}
}

func TestCmdlineKind(t *testing.T) {
	for line, want := range map[string]datasource.Kind{
		"quiet":                     datasource.Local,
		"ros.config.b64=Zm9v":       datasource.Local,
		"ros.config.url=http://x/y": datasource.Network,
		"ros.config.url=http://x ros.config.b64=": datasource.Local,
	} {
		if got := (&datasource.Cmdline{Line: line}).Kind(); got != want {
			t.Errorf("Cmdline{%q}.Kind() = %v, want %v", line, got, want)
		}
	}
}

// jsonWithAll applies several jsonWith edits.
func jsonWithAll(t *testing.T, path string, edits map[string]any) []byte {
	t.Helper()
	b := readTestdata(t, path)
	for k, v := range edits {
		b = jsonSet(t, b, k, v)
	}
	return b
}

// A token a header cannot carry is refused at once instead of failing every
// request until the deadline (found by FuzzEC2).
func TestEC2TokenNotHeaderSafe(t *testing.T) {
	for _, token := range []string{"\x1c", "a\x7fb", "two words"} {
		e := &ec2Server{imdsV2: true, token: token}
		s := serve(t, e)
		_, err := (&datasource.EC2{HTTP: testHTTP(s.URL)}).Fetch(context.Background())
		if err == nil || !strings.Contains(err.Error(), "token holds bytes a header cannot carry") {
			t.Errorf("EC2.Fetch() with token %q = %v, want a bad token error", token, err)
		}
	}
}

// Comment lines in ssh-keys are not keys (found by FuzzParseGCE).
func TestGCEKeysSkipComments(t *testing.T) {
	doc := jsonWithAll(t, "gce/recursive.json", map[string]any{
		"instance.attributes.ssh-keys":               "# keys for the team\nalice:#\n alice:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice \n",
		"instance.attributes.block-project-ssh-keys": "true",
	})
	s := serve(t, &gceServer{t: t, doc: doc, flavor: true})
	check(t, &datasource.GCE{HTTP: testHTTP(s.URL)}, want{
		id: "4630178217123456789", host: "gce-test.c.my-project.internal", zone: "europe-west1-b",
		keys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice"},
	})
}
