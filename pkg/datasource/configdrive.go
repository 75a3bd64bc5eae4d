package datasource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// ConfigDrive reads an OpenStack config drive: a filesystem labelled
// "config-2" holding openstack/latest/{user_data, meta_data.json,
// vendor_data.json, network_data.json}. When there is no "latest", the
// newest dated version is used.
type ConfigDrive struct {
	// Dir, when set, is read directly instead of looking for a labelled
	// filesystem (e.g. configdrive:/media/config-2).
	Dir string
	// Finder looks the filesystem up by label.
	Finder Finder
	// Label overrides LabelConfigDrive.
	Label string
}

func (s *ConfigDrive) Name() string { return "configdrive" }
func (s *ConfigDrive) Kind() Kind   { return Local }

func (s *ConfigDrive) Fetch(ctx context.Context) (*Data, error) {
	var d *Data
	err := withDir(ctx, s.Dir, s.Finder, orString(s.Label, LabelConfigDrive), func(dir, device string) error {
		var err error
		d, err = readConfigDrive(dir)
		if d != nil {
			d.Source = "configdrive:" + device
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("configdrive: %w", err)
	}
	return d, nil
}

func readConfigDrive(root string) (*Data, error) {
	dir, err := configDriveVersion(root)
	if err != nil {
		return nil, err
	}
	metaPath := filepath.Join(dir, "meta_data.json")
	meta, err := readOptional(metaPath)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		return nil, fmt.Errorf("%s missing: %w", metaPath, ErrNotFound)
	}
	md, err := parseOpenStackMeta(meta)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", metaPath, err)
	}
	user, err := readOptional(filepath.Join(dir, "user_data"))
	if err != nil {
		return nil, err
	}
	vendorRaw, err := readOptional(filepath.Join(dir, "vendor_data.json"))
	if err != nil {
		return nil, err
	}
	vendor, err := parseOpenStackVendor(vendorRaw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "vendor_data.json"), err)
	}
	network, err := readOptional(filepath.Join(dir, "network_data.json"))
	if err != nil {
		return nil, err
	}
	d := &Data{UserData: nilIfEmpty(user), VendorData: vendor, NetworkConfig: nilIfEmpty(network), MetaData: md}
	if d.NetworkConfig != nil {
		d.NetworkFormat = NetworkOpenStack
	}
	return d, nil
}

// configDriveVersion picks openstack/latest, or else the greatest dated
// directory (the names are YYYY-MM-DD, so they sort by date).
func configDriveVersion(root string) (string, error) {
	base := filepath.Join(root, "openstack")
	latest := filepath.Join(base, "latest")
	if fi, err := os.Stat(latest); err == nil && fi.IsDir() {
		return latest, nil
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %w", base, err, ErrNotFound)
	}
	var dated []string
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == len("2006-01-02") && e.Name()[4] == '-' {
			dated = append(dated, e.Name())
		}
	}
	if len(dated) == 0 {
		return "", fmt.Errorf("%s holds no metadata version: %w", base, ErrNotFound)
	}
	sort.Strings(dated)
	return filepath.Join(base, dated[len(dated)-1]), nil
}
