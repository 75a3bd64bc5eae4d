package datasource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// DigitalOcean reads the droplet metadata service: one JSON document at
// /metadata/v1.json holding user_data, vendor_data, hostname, droplet_id,
// public_keys, region and the network interfaces (kept in
// MetaData["interfaces"] and MetaData["dns"] as decoded JSON).
type DigitalOcean struct {
	HTTP HTTPOptions
}

func (s *DigitalOcean) Name() string { return "digitalocean" }
func (s *DigitalOcean) Kind() Kind   { return Network }

// endpoint is the base URL, so First can skip sources on a dead address.
func (s *DigitalOcean) endpoint() string { return s.HTTP.base() }

func (s *DigitalOcean) Fetch(ctx context.Context) (*Data, error) {
	f, cancel := newFetcher(ctx, s.HTTP, s.Name())
	defer cancel()
	base := s.HTTP.base()
	b, err := f.get(base+"/metadata/v1.json", nil)
	if err != nil {
		return nil, fmt.Errorf("digitalocean: %w", err)
	}
	d, err := parseDigitalOcean(b)
	if err != nil {
		return nil, fmt.Errorf("digitalocean: %s/metadata/v1.json: %w", base, err)
	}
	d.Source = "digitalocean:" + base
	return d, nil
}

// parseDigitalOcean decodes /metadata/v1.json.
func parseDigitalOcean(b []byte) (*Data, error) {
	var m struct {
		DropletID  any    `json:"droplet_id"`
		Hostname   string `json:"hostname"`
		UserData   any    `json:"user_data"`
		VendorData any    `json:"vendor_data"`
		PublicKeys any    `json:"public_keys"`
		Region     string `json:"region"`
		Interfaces any    `json:"interfaces"`
		DNS        any    `json:"dns"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse metadata: %w", err)
	}
	id := scalarString(m.DropletID)
	if id == "" {
		return nil, fmt.Errorf("parse metadata: no droplet_id")
	}
	md := map[string]any{}
	setMeta(md, MetaInstanceID, id)
	setMeta(md, MetaLocalHostname, m.Hostname)
	setMeta(md, MetaRegion, m.Region)
	setMeta(md, MetaPublicKeys, anyKeys(m.PublicKeys))
	if m.Interfaces != nil {
		md["interfaces"] = m.Interfaces
	}
	if m.DNS != nil {
		md["dns"] = m.DNS
	}
	return &Data{UserData: stringBytes(m.UserData), VendorData: stringBytes(m.VendorData), MetaData: md}, nil
}

// stringBytes returns a JSON string's bytes, or nil for anything else.
func stringBytes(v any) []byte {
	if s, ok := v.(string); ok && s != "" {
		return []byte(s)
	}
	return nil
}
