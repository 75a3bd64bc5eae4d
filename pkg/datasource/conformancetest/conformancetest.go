// Package conformancetest is the test suite every datasource.Source runs:
// it returns the user-data it was given, reports ErrNotFound when it does not
// apply, stops when its context ends, does not hang on a server that never
// answers, and names itself in its errors.
package conformancetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/datasource"
)

// Harness builds the sources under test.
type Harness struct {
	// Present returns a source that will find userData.
	Present func(t *testing.T, userData []byte) datasource.Source
	// Absent returns a source on a machine where it does not apply.
	Absent func(t *testing.T) datasource.Source
	// Stalled returns a source whose server accepts connections and never
	// answers, with timeout as the source's own deadline (its
	// HTTPOptions.Timeout). Nil for sources that do not use the network.
	Stalled func(t *testing.T, timeout time.Duration) datasource.Source
}

// hangLimit is how long a Fetch may run before the suite calls it hung. It
// is far above any deadline the suite sets: it detects hangs, not slowness.
const hangLimit = 20 * time.Second

// Payloads every source must carry unchanged.
var Payloads = map[string][]byte{
	"cloud-config": []byte("#cloud-config\nhostname: conformance\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0 test@ros\n"),
	"script":       []byte("#!/bin/sh\necho 'héllo wörld' > /tmp/x\n\texit 0\n"),
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	t.Run("UserData", func(t *testing.T) {
		for name, want := range Payloads {
			t.Run(name, func(t *testing.T) {
				src := h.Present(t, want)
				d, err := fetch(t, context.Background(), src)
				if err != nil {
					t.Fatalf("%s.Fetch() error = %v, want nil", src.Name(), err)
				}
				if !bytes.Equal(d.UserData, want) {
					t.Errorf("%s.Fetch().UserData = %q, want %q", src.Name(), d.UserData, want)
				}
				if !strings.HasPrefix(d.Source, src.Name()+":") {
					t.Errorf("%s.Fetch().Source = %q, want prefix %q", src.Name(), d.Source, src.Name()+":")
				}
				if d.MetaData == nil {
					t.Errorf("%s.Fetch().MetaData = nil, want a map", src.Name())
				}
			})
		}
	})
	t.Run("Kind", func(t *testing.T) {
		src := h.Present(t, Payloads["cloud-config"])
		if k := src.Kind(); k != datasource.Local && k != datasource.Network {
			t.Errorf("%s.Kind() = %v, want local or network", src.Name(), k)
		}
		if h.Stalled != nil && src.Kind() != datasource.Network {
			t.Errorf("%s.Kind() = %v for a source with a server, want network", src.Name(), src.Kind())
		}
	})
	t.Run("Absent", func(t *testing.T) {
		src := h.Absent(t)
		d, err := fetch(t, context.Background(), src)
		if !errors.Is(err, datasource.ErrNotFound) {
			t.Fatalf("%s.Fetch() = %v, %v; want ErrNotFound", src.Name(), d, err)
		}
		checkNamed(t, src, err)
	})
	t.Run("Canceled", func(t *testing.T) {
		src := h.Present(t, Payloads["cloud-config"])
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		d, err := fetch(t, ctx, src)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s.Fetch(canceled ctx) = %v, %v; want context.Canceled", src.Name(), d, err)
		}
		checkNamed(t, src, err)
	})
	if h.Stalled == nil {
		return
	}
	t.Run("StalledOwnDeadline", func(t *testing.T) {
		src := h.Stalled(t, 300*time.Millisecond)
		_, err := fetch(t, context.Background(), src)
		if !errors.Is(err, datasource.ErrNotFound) {
			t.Fatalf("%s.Fetch() on a stalled server = %v, want ErrNotFound once its deadline passes", src.Name(), err)
		}
		checkNamed(t, src, err)
	})
	t.Run("StalledCallerDeadline", func(t *testing.T) {
		src := h.Stalled(t, time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := fetch(t, ctx, src)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s.Fetch(ctx with deadline) on a stalled server = %v, want context.DeadlineExceeded", src.Name(), err)
		}
		checkNamed(t, src, err)
	})
	t.Run("StalledCanceled", func(t *testing.T) {
		src := h.Stalled(t, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		_, err := fetch(t, ctx, src)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s.Fetch(ctx canceled mid-way) on a stalled server = %v, want context.Canceled", src.Name(), err)
		}
	})
}

// fetch runs Fetch and fails the test if it does not return within
// hangLimit.
func fetch(t *testing.T, ctx context.Context, src datasource.Source) (*datasource.Data, error) {
	t.Helper()
	type result struct {
		d   *datasource.Data
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := src.Fetch(ctx)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		if r.err == nil && r.d == nil {
			t.Fatalf("%s.Fetch() = nil, nil; want data or an error", src.Name())
		}
		return r.d, r.err
	case <-time.After(hangLimit):
		t.Fatalf("%s.Fetch() still running after %v: it hangs", src.Name(), hangLimit)
		return nil, nil
	}
}

func checkNamed(t *testing.T, src datasource.Source, err error) {
	t.Helper()
	if err != nil && !strings.HasPrefix(err.Error(), src.Name()) {
		t.Errorf("%s.Fetch() error %q does not start with the source name", src.Name(), err)
	}
}
