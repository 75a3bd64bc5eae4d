package rosd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Annotations a service entry may carry (LinuxKit's `annotations:`), read
// from its config.json.
const (
	// annNotify "true": the service is ready once it sends READY=1 to
	// $NOTIFY_SOCKET (sd_notify; go-systemd's daemon.SdNotify does it),
	// not as soon as it runs.
	annNotify = "org.ros.notify"
	// annAfter "a,b": start the service once a and b are ready.
	annAfter = "org.ros.after"
	// annHealth is a shell command run in the service's container; exit 0
	// is healthy.
	annHealth = "org.ros.health.cmd"
	// annHealthInterval is how often (a Go duration, default 30s).
	annHealthInterval = "org.ros.health.interval"
)

const defaultHealthInterval = 30 * time.Second

// serviceOpts are the ordering, readiness and health settings of a service.
type serviceOpts struct {
	listen   [][2]string // network, address
	notify   bool
	after    []string
	health   string
	interval time.Duration
}

// readServiceOpts reads a bundle's settings from its config.json.
func readServiceOpts(bundle string) (serviceOpts, error) {
	o := serviceOpts{interval: defaultHealthInterval}
	raw, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return o, err
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		return o, fmt.Errorf("%s/config.json: %w", bundle, err)
	}
	a := spec.Annotations
	o.notify = a[annNotify] == "true"
	for _, n := range strings.Split(a[annAfter], ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.after = append(o.after, n)
		}
	}
	if o.listen, err = parseListen(a[annListen]); err != nil {
		return o, fmt.Errorf("%s/config.json: %w", bundle, err)
	}
	o.health = strings.TrimSpace(a[annHealth])
	if v := a[annHealthInterval]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, fmt.Errorf("%s/config.json: annotation %s: %q is not a duration like 30s", bundle, annHealthInterval, v)
		}
		o.interval = d
	}
	return o, nil
}

// notifySocket receives sd_notify datagrams from one service.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

// listenNotify makes the datagram socket at path (replacing a stale one).
// Its directory is private (see privateDir); the socket itself is 0666 as
// the service may run as any user.
func listenNotify(path string) (*notifySocket, error) {
	if err := privateDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	//nolint:gosec // G302: privateDir is the access control; the service's user is any
	if err := os.Chmod(path, 0o666); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	return &notifySocket{path: path, conn: conn}, nil
}

// privateDir makes dir (and its parents) and leaves dir root-only (0700),
// also when it was there before. The sockets rosd makes for one service
// (notify, activation) are 0666 so that the service may run as any user;
// they reach it through a bind mount of the socket alone, so this directory
// keeps every other local user (a shell in the sshd or getty container,
// which bind /run) from sending READY=1 for a service or taking its
// listening sockets.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// serve calls onMsg with each message's variables until ctx is done.
func (n *notifySocket) serve(ctx context.Context, onMsg func(map[string]string)) {
	go func() {
		<-ctx.Done()
		n.conn.Close()
	}()
	buf := make([]byte, 4096)
	for {
		k, _, err := n.conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		onMsg(parseNotify(buf[:k]))
	}
}

// parseNotify reads an sd_notify message: newline-separated VAR=VALUE.
func parseNotify(b []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// withNotify gives a spec the notify socket: $NOTIFY_SOCKET, and the
// socket bound at the same path inside.
func withNotify(path string) func(*specs.Spec) error {
	return func(s *specs.Spec) error {
		if s.Process == nil {
			return errors.New("no process in spec")
		}
		s.Process.Env = append(s.Process.Env, "NOTIFY_SOCKET="+path)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: path, Type: "bind", Source: path, Options: []string{"bind"}})
		return nil
	}
}
