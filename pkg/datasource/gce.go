package datasource

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
)

const gceFlavorHeader = "Metadata-Flavor"

// GCE reads Google Compute Engine metadata: the whole tree in one request
// (/computeMetadata/v1/?recursive=true) with the Metadata-Flavor: Google
// header; a server that does not answer with that header back is not GCE.
// User-data is the instance attribute "user-data" (base64 when
// "user-data-encoding" is "base64"); public keys come from the "ssh-keys"
// (and legacy "sshKeys") attributes of the instance and, unless
// "block-project-ssh-keys" is "true", of the project, with the "user:"
// prefix removed.
type GCE struct {
	HTTP HTTPOptions
}

func (s *GCE) Name() string { return "gce" }
func (s *GCE) Kind() Kind   { return Network }

// endpoint is the base URL, so First can skip sources on a dead address.
func (s *GCE) endpoint() string { return s.HTTP.base() }

func (s *GCE) Fetch(ctx context.Context) (*Data, error) {
	f, cancel := newFetcher(ctx, s.HTTP, s.Name())
	defer cancel()
	base := s.HTTP.base()
	url := base + "/computeMetadata/v1/?recursive=true&alt=json"
	resp, err := f.do(http.MethodGet, url, http.Header{gceFlavorHeader: {"Google"}})
	if err != nil {
		return nil, fmt.Errorf("gce: %w", err)
	}
	b, err := checkStatus(http.MethodGet, url, resp)
	if err != nil {
		return nil, fmt.Errorf("gce: %w", err)
	}
	if resp.header.Get(gceFlavorHeader) != "Google" {
		return nil, fmt.Errorf("gce: %s answered without %s: Google: %w", url, gceFlavorHeader, ErrNotFound)
	}
	d, err := parseGCE(b)
	if err != nil {
		return nil, fmt.Errorf("gce: %s: %w", url, err)
	}
	d.Source = "gce:" + base
	return d, nil
}

// parseGCE decodes the recursive metadata document.
func parseGCE(b []byte) (*Data, error) {
	var m struct {
		Instance struct {
			ID         json.Number       `json:"id"`
			Hostname   string            `json:"hostname"`
			Zone       string            `json:"zone"`
			Attributes map[string]string `json:"attributes"`
		} `json:"instance"`
		Project struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"project"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse metadata: %w", err)
	}
	if m.Instance.ID == "" {
		return nil, fmt.Errorf("parse metadata: no instance.id")
	}
	md := map[string]any{}
	setMeta(md, MetaInstanceID, m.Instance.ID.String())
	setMeta(md, MetaLocalHostname, m.Instance.Hostname)
	if m.Instance.Zone != "" {
		setMeta(md, MetaZone, path.Base(m.Instance.Zone))
	}
	ia, pa := m.Instance.Attributes, m.Project.Attributes
	keys := gceKeys(ia["ssh-keys"], ia["sshKeys"])
	if !strings.EqualFold(ia["block-project-ssh-keys"], "true") {
		keys = append(keys, gceKeys(pa["ssh-keys"], pa["sshKeys"])...)
	}
	setMeta(md, MetaPublicKeys, keys)

	user := []byte(ia["user-data"])
	if ia["user-data-encoding"] == "base64" {
		dec, err := base64.StdEncoding.DecodeString(string(user))
		if err != nil {
			return nil, fmt.Errorf("user-data: %w", err)
		}
		user = dec
	}
	return &Data{UserData: nilIfEmpty(user), MetaData: md}, nil
}

// gceKeys turns "user:ssh-ed25519 AAAA... comment" lines into key lines,
// leaving out comment lines (#) as authorized_keys would.
func gceKeys(values ...string) []string {
	var keys []string
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if user, key, ok := strings.Cut(line, ":"); ok && !strings.ContainsAny(user, " \t") {
				line = strings.TrimSpace(key)
			}
			if line != "" && !strings.HasPrefix(line, "#") {
				keys = append(keys, line)
			}
		}
	}
	return keys
}
