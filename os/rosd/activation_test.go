package rosd

import (
	"context"
	"net"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseListen(t *testing.T) {
	tests := []struct {
		in      string
		want    [][2]string
		wantErr bool
	}{
		{"", nil, false},
		{"tcp:0.0.0.0:8080", [][2]string{{"tcp", "0.0.0.0:8080"}}, false},
		{"tcp:127.0.0.1:80, unix:/run/app.sock", [][2]string{{"tcp", "127.0.0.1:80"}, {"unix", "/run/app.sock"}}, false},
		{"udp6:[::1]:53", [][2]string{{"udp6", "[::1]:53"}}, false},
		{"sctp:1.2.3.4:1", nil, true},
		{"8080", nil, true},
		{"tcp:", nil, true},
	}
	for _, tt := range tests {
		got, err := parseListen(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseListen(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// The sockets rosd opens reach the wrapper whole: a TCP listener handed
// over SCM_RIGHTS still accepts connections.
func TestActivatorHandsOverSockets(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := newActivator(ctx, [][2]string{{"tcp", "127.0.0.1:0"}, {"unix", filepath.Join(dir, "app.sock")}}, filepath.Join(dir, "activate", "svc"))
	if err != nil {
		t.Fatal(err)
	}
	files, names, err := receiveFiles(a.path)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || len(names) != 2 || names[0] != "tcp-127.0.0.1_0" {
		t.Fatalf("receiveFiles = %d files, names %v; want 2 and tcp-127.0.0.1_0 first", len(files), names)
	}
	l, err := net.FileListener(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			if _, err := c.Write([]byte("hi")); err != nil {
				t.Errorf("write to the handed-over listener: %v", err)
			}
			c.Close()
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("accept on the handed-over listener: %v", err)
	}
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Errorf("read = %q, %v, want hi", buf, err)
	}
	c.Close()
	// The same sockets again for a restarted service.
	again, _, err := receiveFiles(a.path)
	if err != nil || len(again) != 2 {
		t.Errorf("second receiveFiles = %d files, %v, want 2", len(again), err)
	}
}
