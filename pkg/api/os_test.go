package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/api/apitest"
)

func TestOSUpgradeStream(t *testing.T) {
	steps := []api.Progress{
		{Phase: "fetch", Done: 1 << 20, Total: 4 << 20},
		{Phase: "write", Done: 4 << 20, Total: 4 << 20},
	}
	tests := []struct {
		name    string
		err     error
		want    *api.UpgradeResult
		wantErr error
	}{
		{"ok", nil, &api.UpgradeResult{From: "v1", To: "v2", Slot: "B", Bytes: 4 << 20}, nil},
		{"refused", fmt.Errorf("bundle: %w: signed by an unknown key", api.ErrConflict), nil, api.ErrConflict},
		{"invalid", fmt.Errorf("%w: pauseAt", api.ErrInvalid), nil, api.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &apitest.Fake{Steps: steps, Err: tt.err, Upgrade: api.UpgradeResult{From: "v1", To: "v2", Slot: "B", Bytes: 4 << 20}}
			c := api.NewClient(apitest.Serve(t, f))
			defer c.Close()
			var got []api.Progress
			res, err := c.OSUpgrade(context.Background(), api.UpgradeRequest{Bundle: "/tmp/v2.bundle", NoReboot: true},
				func(p api.Progress) { got = append(got, p) })
			if d := cmp.Diff(steps, got); d != "" {
				t.Errorf("progress mismatch (-want +got):\n%s", d)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("OSUpgrade() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && err.Error() != tt.err.Error() {
				t.Errorf("OSUpgrade() error = %q, want the server's %q", err, tt.err)
			}
			if d := cmp.Diff(tt.want, res); d != "" {
				t.Errorf("OSUpgrade() result mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestOSStatusRollback(t *testing.T) {
	f := &apitest.Fake{OS: api.OSStatus{Version: "v2", Booted: "B", Next: "B", Slots: []api.OSSlot{
		{Name: "A", State: "good", Version: "v1"}, {Name: "B", State: "good", Version: "v2", Booted: true, Next: true},
	}}}
	c := api.NewClient(apitest.Serve(t, f))
	defer c.Close()
	st, err := c.OSStatus(context.Background())
	if err != nil || cmp.Diff(&f.OS, st) != "" {
		t.Fatalf("OSStatus() = %+v, %v, want %+v", st, err, f.OS)
	}
	rb, err := c.OSRollback(context.Background(), true)
	if err != nil || *rb != (api.RollbackResult{Slot: "A", Version: "v1"}) {
		t.Errorf("OSRollback(noReboot) = %+v, %v, want slot A v1 without reboot", rb, err)
	}
}
