// Package datasource finds the raw cloud-config of a machine: user-data,
// vendor-data, network-config and instance metadata, from the kernel command
// line, local disks (NoCloud, OpenStack config drive), a file, a URL or a
// cloud metadata service (EC2-compatible, DigitalOcean, Hetzner, GCE, Vultr,
// OpenStack).
//
// Every source implements Source. A source that does not apply to this
// machine (no such disk, no metadata server, no parameter on the command
// line) returns an error matching ErrNotFound; any other error is a real
// failure. Errors always start with the source's name. The package returns
// bytes as the provider served them; parsing #cloud-config belongs to
// pkg/cloudconfig.
//
// Sources are built by name with FromNames (the names are the values of
// ros.cloud_init.datasources, "NAME" or "NAME:ARG") and tried with First.
// The default order (DefaultNames) is:
//
//	cmdline, nocloud, configdrive                       (local)
//	digitalocean, hetzner, gce, vultr, openstack, ec2   (network)
//
// First always tries local sources before network ones and otherwise keeps
// the given order; the first source that finds data wins. A caller that
// reads local sources before services start and network ones once the
// network is up splits the list with OfKind. Network sources retry until
// their own deadline (HTTPOptions.Timeout, 30 s by default); when an address
// gave no answer at all, First skips the other sources on that address.
package datasource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotFound reports that a source does not apply to this machine: the
// disk, file, command-line parameter or metadata server is absent.
var ErrNotFound = errors.New("datasource not found")

// Kind tells when a source can be read: Local sources need no network and are
// read before services start; Network sources are read once the network is up.
type Kind int

const (
	Local Kind = iota
	Network
)

func (k Kind) String() string {
	switch k {
	case Local:
		return "local"
	case Network:
		return "network"
	}
	return "unknown"
}

// Source is one place cloud-config can come from.
type Source interface {
	// Name is the registry name of the source ("ec2", "nocloud" ...).
	Name() string
	// Kind says whether the source needs the network.
	Kind() Kind
	// Fetch reads the source. It returns an error matching ErrNotFound when
	// the source does not apply here, and stops when ctx is done.
	Fetch(ctx context.Context) (*Data, error)
}

// Well-known MetaData keys, filled by every source that knows them, with the
// values normalised to the types given.
const (
	MetaInstanceID    = "instance-id"       // string
	MetaLocalHostname = "local-hostname"    // string
	MetaPublicKeys    = "public-keys"       // []string, OpenSSH authorized_keys lines
	MetaRegion        = "region"            // string
	MetaZone          = "availability-zone" // string
)

// Network config formats found in Data.NetworkFormat.
const (
	// NetworkCloudInit is cloud-init network config, version 1 or 2 (YAML).
	NetworkCloudInit = "cloud-init"
	// NetworkOpenStack is OpenStack's network_data.json.
	NetworkOpenStack = "openstack"
)

// Data is what a source found. Byte slices are nil when the source had none.
type Data struct {
	// Source names where the data came from: the source name, a colon and
	// the location, e.g. "nocloud:/dev/sr0" or "ec2:http://169.254.169.254".
	Source        string
	UserData      []byte
	VendorData    []byte
	NetworkConfig []byte
	// NetworkFormat is NetworkCloudInit or NetworkOpenStack when
	// NetworkConfig is set.
	NetworkFormat string
	// MetaData holds instance metadata; see the Meta* keys.
	MetaData map[string]any
}

// InstanceID returns MetaData[MetaInstanceID], or "".
func (d *Data) InstanceID() string { return d.metaString(MetaInstanceID) }

// Hostname returns MetaData[MetaLocalHostname], or "".
func (d *Data) Hostname() string { return d.metaString(MetaLocalHostname) }

// PublicKeys returns MetaData[MetaPublicKeys], or nil.
func (d *Data) PublicKeys() []string {
	if d == nil || d.MetaData == nil {
		return nil
	}
	keys, _ := d.MetaData[MetaPublicKeys].([]string)
	return keys
}

func (d *Data) metaString(key string) string {
	if d == nil || d.MetaData == nil {
		return ""
	}
	s, _ := d.MetaData[key].(string)
	return s
}

// setMeta stores v under key when it is not empty.
func setMeta(m map[string]any, key string, v any) {
	switch v := v.(type) {
	case string:
		if v == "" {
			return
		}
	case []string:
		if len(v) == 0 {
			return
		}
	case nil:
		return
	}
	m[key] = v
}

// scalarString formats a decoded JSON or YAML scalar (string, number,
// bool) as a string; anything else (nil, lists, maps) gives "".
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

// nilIfEmpty keeps "no data" as nil.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
