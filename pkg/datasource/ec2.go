package datasource

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// EC2 token headers (IMDSv2).
//
//nolint:gosec // G101: header names and a TTL, not credentials
const (
	ec2TokenHeader    = "X-aws-ec2-metadata-token"
	ec2TokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
	ec2TokenTTL       = "21600"
)

// EC2 reads the EC2-compatible instance metadata service (AWS, and the
// emulations in OpenStack, Exoscale, Scaleway's older API, most private
// clouds). It asks for an IMDSv2 session token first (PUT /latest/api/token)
// and falls back to IMDSv1 (no token) when the server refuses the PUT with a
// 4xx status. The service is recognised by /latest/meta-data/instance-id.
type EC2 struct {
	HTTP HTTPOptions
}

func (s *EC2) Name() string { return "ec2" }
func (s *EC2) Kind() Kind   { return Network }

// endpoint is the base URL, so First can skip sources on a dead address.
func (s *EC2) endpoint() string { return s.HTTP.base() }

func (s *EC2) Fetch(ctx context.Context) (*Data, error) {
	d, err := s.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("ec2: %w", err)
	}
	return d, nil
}

func (s *EC2) fetch(ctx context.Context) (*Data, error) {
	f, cancel := newFetcher(ctx, s.HTTP, s.Name())
	defer cancel()
	base := s.HTTP.base()

	hdr, err := ec2Token(f, base)
	if err != nil {
		return nil, err
	}
	md := map[string]any{}
	id, err := f.get(base+"/latest/meta-data/instance-id", hdr)
	if err != nil {
		return nil, err
	}
	setMeta(md, MetaInstanceID, strings.TrimSpace(string(id)))
	for key, path := range map[string]string{
		MetaLocalHostname: "local-hostname",
		MetaZone:          "placement/availability-zone",
		MetaRegion:        "placement/region",
	} {
		b, err := f.optional(base+"/latest/meta-data/"+path, hdr)
		if err != nil {
			return nil, err
		}
		setMeta(md, key, strings.TrimSpace(string(b)))
	}
	keys, err := ec2PublicKeys(f, base, hdr)
	if err != nil {
		return nil, err
	}
	setMeta(md, MetaPublicKeys, keys)
	user, err := f.optional(base+"/latest/user-data", hdr)
	if err != nil {
		return nil, err
	}
	return &Data{Source: "ec2:" + base, UserData: nilIfEmpty(user), MetaData: md}, nil
}

// ec2Token gets an IMDSv2 token and returns the header that carries it, or
// an empty header for IMDSv1 when the server refuses tokens.
func ec2Token(f *fetcher, base string) (http.Header, error) {
	url := base + "/latest/api/token"
	resp, err := f.do(http.MethodPut, url, http.Header{ec2TokenTTLHeader: {ec2TokenTTL}})
	if err != nil {
		return nil, err
	}
	token := string(bytes.TrimSpace(resp.body))
	if resp.status == http.StatusOK && token != "" {
		if !headerSafe(token) {
			// Sending it would fail every request until the deadline.
			return nil, fmt.Errorf("PUT %s: the token holds bytes a header cannot carry", url)
		}
		f.log.Debug("using IMDSv2 token")
		return http.Header{ec2TokenHeader: {token}}, nil
	}
	if resp.status >= 400 && resp.status < 500 {
		f.log.Debug("IMDSv2 token refused, falling back to IMDSv1", "status", resp.status)
		return http.Header{}, nil
	}
	return nil, fmt.Errorf("PUT %s: %d: %w", url, resp.status, errStatus)
}

// headerSafe reports whether s is printable ASCII, as IMDSv2 tokens
// (base64) are.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// ec2PublicKeys lists public-keys/ and reads each index's openssh-key.
func ec2PublicKeys(f *fetcher, base string, hdr http.Header) ([]string, error) {
	listing, err := f.optional(base+"/latest/meta-data/public-keys/", hdr)
	if err != nil || listing == nil {
		return nil, err
	}
	idx, err := parseEC2KeyList(listing)
	if err != nil {
		return nil, fmt.Errorf("public-keys: %w", err)
	}
	var keys []string
	for _, i := range idx {
		b, err := f.optional(fmt.Sprintf("%s/latest/meta-data/public-keys/%d/openssh-key", base, i), hdr)
		if err != nil {
			return nil, err
		}
		keys = append(keys, anyKeys(string(b))...)
	}
	return keys, nil
}

// parseEC2KeyList parses the public-keys/ listing: one "INDEX=NAME" line per
// key pair (a bare "INDEX" or "INDEX/" is accepted too). It returns the
// indexes in increasing order.
func parseEC2KeyList(b []byte) ([]int, error) {
	var idx []int
	seen := map[int]bool{}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		num, _, _ := strings.Cut(line, "=")
		num = strings.TrimSuffix(num, "/")
		i, err := strconv.Atoi(num)
		if err != nil || i < 0 || num != strconv.Itoa(i) {
			return nil, fmt.Errorf("line %d %q: want INDEX=NAME", n+1, line)
		}
		if !seen[i] {
			seen[i] = true
			idx = append(idx, i)
		}
	}
	sort.Ints(idx)
	return idx, nil
}
