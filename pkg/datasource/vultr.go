package datasource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Vultr reads the Vultr metadata service: /v1.json (asked for with the
// Metadata-Token header cloud-init sends, so the answer includes user-data
// and vendor-data), falling back to /latest/user-data when the document
// carries no user-data. Network interfaces are kept in
// MetaData["interfaces"] as decoded JSON.
type Vultr struct {
	HTTP HTTPOptions
}

func (s *Vultr) Name() string { return "vultr" }
func (s *Vultr) Kind() Kind   { return Network }

// endpoint is the base URL, so First can skip sources on a dead address.
func (s *Vultr) endpoint() string { return s.HTTP.base() }

func (s *Vultr) Fetch(ctx context.Context) (*Data, error) {
	f, cancel := newFetcher(ctx, s.HTTP, s.Name())
	defer cancel()
	base := s.HTTP.base()
	hdr := http.Header{"Metadata-Token": {"cloudinit"}}
	b, err := f.get(base+"/v1.json", hdr)
	if err != nil {
		return nil, fmt.Errorf("vultr: %w", err)
	}
	d, err := parseVultr(b)
	if err != nil {
		return nil, fmt.Errorf("vultr: %s/v1.json: %w", base, err)
	}
	if d.UserData == nil {
		user, err := f.optional(base+"/latest/user-data", hdr)
		if err != nil {
			return nil, fmt.Errorf("vultr: %w", err)
		}
		d.UserData = nilIfEmpty(user)
	}
	d.Source = "vultr:" + base
	return d, nil
}

// parseVultr decodes /v1.json. Older documents name the instance
// "instanceid" and the host "hostname"; newer ones "instance-id" and
// "local-hostname".
func parseVultr(b []byte) (*Data, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse metadata: %w", err)
	}
	id := firstOf(m, "instance-id", "instance-v2-id", "instanceid")
	if id == "" {
		return nil, fmt.Errorf("parse metadata: no instance-id")
	}
	md := map[string]any{}
	setMeta(md, MetaInstanceID, id)
	setMeta(md, MetaLocalHostname, firstOf(m, "local-hostname", "hostname"))
	setMeta(md, MetaPublicKeys, anyKeys(m["public-keys"]))
	switch r := m["region"].(type) {
	case string:
		setMeta(md, MetaRegion, r)
	case map[string]any:
		setMeta(md, MetaRegion, firstOf(r, "regioncode", "regionid"))
	}
	if ifs, ok := m["interfaces"]; ok && ifs != nil {
		md["interfaces"] = ifs
	}
	d := &Data{UserData: stringBytes(m["user-data"]), MetaData: md}
	switch v := m["vendor-data"].(type) {
	case string:
		d.VendorData = nilIfEmpty([]byte(v))
	case nil:
	default:
		// A list or map of parts: JSON is YAML, hand it on as a document.
		out, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("vendor-data: %w", err)
		}
		d.VendorData = out
	}
	return d, nil
}

// firstOf returns the first of keys whose value is a non-empty string or a
// number, as a string.
func firstOf(m map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if v != "" {
				return v
			}
		case json.Number:
			return v.String()
		}
	}
	return ""
}
