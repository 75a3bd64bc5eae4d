package datasource

import (
	"context"
	"fmt"
)

// OpenStack reads the OpenStack metadata service:
// /openstack/latest/{meta_data.json, user_data, vendor_data.json,
// network_data.json}, the same documents a config drive holds.
type OpenStack struct {
	HTTP HTTPOptions
}

func (s *OpenStack) Name() string { return "openstack" }
func (s *OpenStack) Kind() Kind   { return Network }

// endpoint is the base URL, so First can skip sources on a dead address.
func (s *OpenStack) endpoint() string { return s.HTTP.base() }

func (s *OpenStack) Fetch(ctx context.Context) (*Data, error) {
	d, err := s.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("openstack: %w", err)
	}
	return d, nil
}

func (s *OpenStack) fetch(ctx context.Context) (*Data, error) {
	f, cancel := newFetcher(ctx, s.HTTP, s.Name())
	defer cancel()
	base := s.HTTP.base()
	dir := base + "/openstack/latest/"
	meta, err := f.get(dir+"meta_data.json", nil)
	if err != nil {
		return nil, err
	}
	md, err := parseOpenStackMeta(meta)
	if err != nil {
		return nil, fmt.Errorf("%smeta_data.json: %w", dir, err)
	}
	user, err := f.optional(dir+"user_data", nil)
	if err != nil {
		return nil, err
	}
	vendorRaw, err := f.optional(dir+"vendor_data.json", nil)
	if err != nil {
		return nil, err
	}
	vendor, err := parseOpenStackVendor(vendorRaw)
	if err != nil {
		return nil, fmt.Errorf("%svendor_data.json: %w", dir, err)
	}
	network, err := f.optional(dir+"network_data.json", nil)
	if err != nil {
		return nil, err
	}
	d := &Data{Source: "openstack:" + base, UserData: nilIfEmpty(user), VendorData: vendor,
		NetworkConfig: nilIfEmpty(network), MetaData: md}
	if d.NetworkConfig != nil {
		d.NetworkFormat = NetworkOpenStack
	}
	return d, nil
}
