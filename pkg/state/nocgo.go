//go:build !cgo

package state

import (
	"log/slog"
)

// startNode: without cgo there is no dqlite. ros for the machine is always
// built with cgo (images/init: static: true); this keeps CGO_ENABLED=0
// builds of the module compiling.
func startNode(dir string, log *slog.Logger) (node, error) {
	return nil, ErrUnavailable
}
