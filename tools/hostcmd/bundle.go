package hostcmd

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"github.com/ros-os/ros/pkg/osimage"
	"github.com/ros-os/ros/upgrade/bundle"
)

// bundleOptions are the `ros build` flags of the bundle formats.
type bundleOptions struct {
	SignKey    string // minisign secret key file; "" writes an unsigned bundle
	MinVersion string // oldest version the bundle upgrades from
}

// BundleOutputs are the bundle formats for osimage.Options.PayloadOutputs,
// signed with the minisign key file signKey ("" for unsigned).
func BundleOutputs(signKey, minVersion string) map[string]osimage.PayloadOutput {
	return bundleOutputs(&bundleOptions{SignKey: signKey, MinVersion: minVersion})
}

// bundleOutputs are the upgrade formats: NAME.bundle (the file `ros os
// upgrade --bundle` takes) and NAME.bundle.oci.tar (the same bundle as an
// OCI image archive, for `--image oci-archive:…` or a registry).
func bundleOutputs(o *bundleOptions) map[string]osimage.PayloadOutput {
	return map[string]osimage.PayloadOutput{
		"bundle": func(ctx context.Context, p *osimage.Payload, base string) error {
			return writeBundle(ctx, p, base+".bundle", o)
		},
		"bundle-oci": func(ctx context.Context, p *osimage.Payload, base string) error {
			tmp := base + ".bundle.tmp"
			defer os.Remove(tmp)
			if err := writeBundle(ctx, p, tmp, o); err != nil {
				return err
			}
			b, err := bundle.Open(tmp)
			if err != nil {
				return err
			}
			defer b.Close()
			img, err := bundle.ToImage(ctx, b)
			if err != nil {
				return err
			}
			return writeFileWith(base+".bundle.oci.tar", func(f *os.File) error {
				return bundle.WriteArchive(f, img, b.Manifest().Version)
			})
		},
	}
}

func writeBundle(ctx context.Context, p *osimage.Payload, out string, o *bundleOptions) error {
	if p.Version == "" {
		return fmt.Errorf("bundle: the image has no version (build with --os-version)")
	}
	var key *bundle.PrivateKey
	if o.SignKey != "" {
		k, err := bundle.ReadPrivateKeyFile(o.SignKey, "")
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		key = k
	}
	m := bundle.Manifest{Version: p.Version, Arch: runtime.GOARCH, MinVersion: o.MinVersion, Cmdline: p.Cmdline}
	_, err := bundle.CreateFile(ctx, out, p.Squashfs, m, key)
	return err
}

// writeFileWith writes path through fn, removing it when fn fails.
func writeFileWith(path string, fn func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = fn(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
