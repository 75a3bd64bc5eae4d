//go:build rosdevice

package grub

import (
	"context"
	"errors"
)

// fetchModules: the machine builds no GRUB images; its installs and
// upgrades carry the ones the build host made.
func fetchModules(context.Context, string, string, string) error {
	return errors.New("GRUB modules are fetched on the build host, not on the machine")
}
