//go:build !linux

package blockdev

import (
	"context"
	"errors"
	"log/slog"
)

// Finder is only implemented on Linux; elsewhere Find always fails.
type Finder struct {
	SysBlock  string
	DevDir    string
	MountBase string
	Logger    *slog.Logger
}

// Find reports that block devices cannot be searched on this system.
func (f *Finder) Find(ctx context.Context, label string) (string, string, func() error, error) {
	return "", "", nil, errors.New("finding filesystems by label is only supported on Linux")
}
