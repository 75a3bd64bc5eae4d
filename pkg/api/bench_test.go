package api_test

import (
	"testing"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/api/apitest"
)

// BenchmarkServicesRoundTrip measures one `ros service list` call over the
// socket (client, handler with the default peer check, fake backend).
func BenchmarkServicesRoundTrip(b *testing.B) {
	c := api.NewClient(apitest.Serve(b, newFake(), api.WithAccess(api.Access{}.Check)))
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.Services(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServicesNewClient adds a new connection per call, as each run
// of the CLI does.
func BenchmarkServicesNewClient(b *testing.B) {
	sock := apitest.Serve(b, newFake(), api.WithAccess(api.Access{}.Check))
	ctx := b.Context()
	for b.Loop() {
		c := api.NewClient(sock)
		if _, err := c.Services(ctx); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
