package rosd

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ros-os/ros/pkg/api"
)

// serveAPI serves b on the API socket until the returned stop is called.
func (d *daemon) serveAPI(ctx context.Context, b api.Backend) (stop func(), err error) {
	if d.opts.Socket == "-" {
		return func() {}, nil
	}
	l, err := api.Listen(d.opts.Socket, d.opts.Group)
	if err != nil {
		return nil, err
	}
	srv := api.NewServer(api.NewHandler(b, d.log, api.WithAccess(api.Access{Group: d.opts.Group}.Check)))
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("API server", "err", err)
		}
	}()
	d.log.Info("API listening", "socket", d.opts.Socket, "group", d.opts.Group)
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
