package datasource

import (
	"os"
	"path/filepath"
	"testing"
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
