package apitest

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ros-os/ros/pkg/api"
)

// Serve serves b on a Unix socket in a fresh temporary directory until the
// test ends and returns the socket's path. By default every peer is allowed;
// pass api.WithAccess to check peers.
func Serve(t testing.TB, b api.Backend, opts ...api.Option) string {
	t.Helper()
	// t.TempDir paths can exceed the 108 bytes of a socket address.
	dir, err := os.MkdirTemp("", "rosapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "ros.sock")
	l, err := api.ListenConfig{}.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]api.Option{api.WithAccess(func(api.PeerCred) error { return nil })}, opts...)
	srv := api.NewServer(api.NewHandler(b, nil, opts...))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close() // not Shutdown: followed logs keep connections busy
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve %s: %v", path, err)
		}
	})
	return path
}
