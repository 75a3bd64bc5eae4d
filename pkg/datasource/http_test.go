package datasource_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ros-os/ros/pkg/datasource"
)

// statusServer answers the statuses in order, then the last one forever,
// with body "ok" on 200. It counts requests.
func statusServer(t *testing.T, statuses ...int) (string, *atomic.Int32) {
	var n atomic.Int32
	s := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		code := statuses[min(i, len(statuses)-1)]
		if code == http.StatusOK {
			_, _ = w.Write([]byte("ok"))
			return
		}
		http.Error(w, "no", code)
	}))
	return s.URL, &n
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		wantBody     string
		wantNotFound bool
		wantRequests int32 // 0: don't check (deadline-bound)
		wantErrHas   string
	}{
		{name: "transient 503 then ok", statuses: []int{503, 503, 200}, wantBody: "ok", wantRequests: 3},
		{name: "429 then ok", statuses: []int{429, 200}, wantBody: "ok", wantRequests: 2},
		{name: "404 is not found at once", statuses: []int{404}, wantNotFound: true, wantRequests: 1, wantErrHas: "404"},
		{name: "403 is a real error at once", statuses: []int{403}, wantRequests: 1, wantErrHas: "403"},
		{name: "500 until the deadline is a real error", statuses: []int{500}, wantErrHas: "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, n := statusServer(t, tt.statuses...)
			o := testHTTP("")
			o.Timeout = 300 * time.Millisecond
			d, err := (&datasource.URL{URL: url + "/x", HTTP: o}).Fetch(context.Background())
			if tt.wantBody != "" {
				if err != nil || string(d.UserData) != tt.wantBody {
					t.Fatalf("URL.Fetch() = %v, %v; want %q", d, err, tt.wantBody)
				}
			} else if err == nil {
				t.Fatalf("URL.Fetch() = %q, nil; want an error", d.UserData)
			}
			if got := errors.Is(err, datasource.ErrNotFound); got != tt.wantNotFound {
				t.Errorf("URL.Fetch() error %v: errors.Is(ErrNotFound) = %v, want %v", err, got, tt.wantNotFound)
			}
			if tt.wantErrHas != "" && !strings.Contains(err.Error(), tt.wantErrHas) {
				t.Errorf("URL.Fetch() error %q does not mention %q", err, tt.wantErrHas)
			}
			if tt.wantRequests != 0 && n.Load() != tt.wantRequests {
				t.Errorf("server saw %d requests, want %d", n.Load(), tt.wantRequests)
			}
		})
	}
}

func TestConnectionRefusedIsNotFound(t *testing.T) {
	s := serve(t, http.NotFoundHandler())
	url := s.URL
	s.Close() // nothing listens there now
	var logs bytes.Buffer
	o := testHTTP(url)
	o.Timeout = 300 * time.Millisecond
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := (&datasource.EC2{HTTP: o}).Fetch(context.Background())
	if !errors.Is(err, datasource.ErrNotFound) {
		t.Fatalf("EC2.Fetch() with nothing listening = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "attempts") || !strings.HasPrefix(err.Error(), "ec2: ") {
		t.Errorf("EC2.Fetch() error %q, want it to start with ec2: and count attempts", err)
	}
	if !strings.Contains(logs.String(), "retrying") || !strings.Contains(logs.String(), "datasource=ec2") {
		t.Errorf("logger got %q, want retry progress naming the datasource", logs.String())
	}
}
