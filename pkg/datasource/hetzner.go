package datasource

import (
	"context"
	"encoding/base64"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Hetzner reads the Hetzner Cloud metadata service: YAML metadata at
// /hetzner/v1/metadata (hostname, instance-id, public-keys, vendor_data,
// network-config, region, availability-zone) and the raw user-data at
// /hetzner/v1/userdata. Hetzner cannot carry binary user-data, so user-data
// that is valid base64 is decoded, as cloud-init does.
type Hetzner struct {
	HTTP HTTPOptions
}

func (s *Hetzner) Name() string { return "hetzner" }
func (s *Hetzner) Kind() Kind   { return Network }

// endpoint is the base URL, so First can skip sources on a dead address.
func (s *Hetzner) endpoint() string { return s.HTTP.base() }

func (s *Hetzner) Fetch(ctx context.Context) (*Data, error) {
	f, cancel := newFetcher(ctx, s.HTTP, s.Name())
	defer cancel()
	base := s.HTTP.base()
	meta, err := f.get(base+"/hetzner/v1/metadata", nil)
	if err != nil {
		return nil, fmt.Errorf("hetzner: %w", err)
	}
	d, err := parseHetzner(meta)
	if err != nil {
		return nil, fmt.Errorf("hetzner: %s/hetzner/v1/metadata: %w", base, err)
	}
	user, err := f.optional(base+"/hetzner/v1/userdata", nil)
	if err != nil {
		return nil, fmt.Errorf("hetzner: %w", err)
	}
	d.UserData = nilIfEmpty(maybeBase64(user))
	d.Source = "hetzner:" + base
	return d, nil
}

// parseHetzner decodes the YAML metadata document.
func parseHetzner(b []byte) (*Data, error) {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse metadata: %w", err)
	}
	id := scalarString(m["instance-id"])
	if id == "" {
		return nil, fmt.Errorf("parse metadata: no instance-id")
	}
	md := map[string]any{}
	setMeta(md, MetaInstanceID, id)
	for key, from := range map[string]string{
		MetaLocalHostname: "hostname",
		MetaRegion:        "region",
		MetaZone:          "availability-zone",
	} {
		if s, ok := m[from].(string); ok {
			setMeta(md, key, s)
		}
	}
	setMeta(md, MetaPublicKeys, anyKeys(m["public-keys"]))
	d := &Data{MetaData: md}
	if s, ok := m["vendor_data"].(string); ok {
		d.VendorData = nilIfEmpty([]byte(s))
	}
	if nc, ok := m["network-config"]; ok && nc != nil {
		out, err := yaml.Marshal(nc)
		if err != nil {
			return nil, fmt.Errorf("network-config: %w", err)
		}
		d.NetworkConfig, d.NetworkFormat = out, NetworkCloudInit
	}
	return d, nil
}

// maybeBase64 decodes b when it is entirely valid base64, else returns it.
func maybeBase64(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	out, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		return b
	}
	return out
}
