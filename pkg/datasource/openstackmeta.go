package datasource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// openstackMeta is the part of OpenStack's meta_data.json ros reads. It is
// the same on a config drive and from the metadata service.
type openstackMeta struct {
	UUID             string            `json:"uuid"`
	Hostname         string            `json:"hostname"`
	Name             string            `json:"name"`
	AvailabilityZone string            `json:"availability_zone"`
	PublicKeys       map[string]string `json:"public_keys"`
	Keys             []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Data string `json:"data"`
	} `json:"keys"`
	Meta map[string]any `json:"meta"`
}

// parseOpenStackMeta decodes meta_data.json into normalised MetaData.
func parseOpenStackMeta(b []byte) (map[string]any, error) {
	var m openstackMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse meta_data.json: %w", err)
	}
	md := map[string]any{}
	setMeta(md, MetaInstanceID, m.UUID)
	setMeta(md, MetaLocalHostname, orString(m.Hostname, m.Name))
	setMeta(md, MetaZone, m.AvailabilityZone)
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, k := range m.Keys {
		if k.Type == "" || k.Type == "ssh" {
			add(k.Data)
		}
	}
	names := make([]string, 0, len(m.PublicKeys))
	for n := range m.PublicKeys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		add(m.PublicKeys[n])
	}
	setMeta(md, MetaPublicKeys, keys)
	if len(m.Meta) > 0 {
		md["meta"] = m.Meta
	}
	return md, nil
}

// parseOpenStackVendor extracts vendor-data from vendor_data.json: either a
// JSON string, or an object whose "cloud-init" member is a string. Anything
// else is provider data ros does not use: nil.
func parseOpenStackVendor(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("parse vendor_data.json: %w", err)
	}
	if obj, ok := v.(map[string]any); ok {
		v = obj["cloud-init"]
	}
	if s, ok := v.(string); ok && s != "" {
		return []byte(s), nil
	}
	return nil, nil
}
