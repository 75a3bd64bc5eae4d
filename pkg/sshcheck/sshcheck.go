// Package sshcheck runs commands over SSH with a private key, retrying the
// connection until the server is up: how tests reach a booted VM.
package sshcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults for zero Options fields.
const (
	DefaultUser          = "root"
	DefaultRetryInterval = time.Second
	DefaultDialTimeout   = 10 * time.Second
)

// Options say where and as whom to connect.
type Options struct {
	Addr string // host:port
	User string // default DefaultUser
	// Key is a private key in PEM or OpenSSH format; Signer may be given
	// instead.
	Key    []byte
	Signer ssh.Signer
	// HostKey pins the server's key; nil accepts any (test VMs make new ones).
	HostKey ssh.PublicKey
	// RetryInterval is the pause between connection attempts.
	RetryInterval time.Duration
	// DialTimeout bounds one attempt (TCP connect and SSH handshake).
	DialTimeout time.Duration
}

// Result is how a command ended.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Client is an SSH connection.
type Client struct {
	c *ssh.Client
}

func (o Options) config() (*ssh.ClientConfig, error) {
	signer := o.Signer
	if signer == nil {
		var err error
		if signer, err = ssh.ParsePrivateKey(o.Key); err != nil {
			return nil, fmt.Errorf("parse private key: %w", err)
		}
	}
	user := o.User
	if user == "" {
		user = DefaultUser
	}
	hk := ssh.InsecureIgnoreHostKey() //nolint:gosec // G106: test guests make fresh host keys each boot; callers that know the key set HostKey
	if o.HostKey != nil {
		hk = ssh.FixedHostKey(o.HostKey)
	}
	return &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hk}, nil
}

// Dial connects and authenticates, retrying every RetryInterval until it
// succeeds or ctx ends: while a VM boots, its forwarded port refuses or
// drops connections and its sshd may not yet hold the authorized key. The
// error on ctx's end wraps ctx.Err() and names the last failure.
func Dial(ctx context.Context, o Options) (*Client, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	interval := o.RetryInterval
	if interval == 0 {
		interval = DefaultRetryInterval
	}
	timeout := o.DialTimeout
	if timeout == 0 {
		timeout = DefaultDialTimeout
	}
	var last error
	for attempt := 1; ; attempt++ {
		c, err := dialOnce(ctx, o.Addr, cfg, timeout)
		if err == nil {
			return &Client{c: c}, nil
		}
		// Keep the last attempt that ctx did not cut short. A dial cut by
		// ctx's deadline can return (i/o timeout) an instant before
		// ctx.Err() says so: the clock decides.
		dl, hasDL := ctx.Deadline()
		cut := ctx.Err() != nil || (hasDL && !time.Now().Before(dl))
		if last == nil || !cut {
			last = err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("ssh %s@%s: gave up after %d attempts: %w (last: %w)", cfg.User, o.Addr, attempt, ctx.Err(), last)
		case <-t.C:
		}
	}
}

func dialOnce(ctx context.Context, addr string, cfg *ssh.ClientConfig, timeout time.Duration) (*ssh.Client, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(actx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline, _ := actx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(actx, func() { conn.SetDeadline(time.Now()) })
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	stopped := stop()
	if err != nil {
		conn.Close()
		return nil, err
	}
	if !stopped {
		conn.Close()
		return nil, actx.Err()
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

// Run runs cmd (through the remote user's shell) and returns its output
// and exit status. A command that exits non-zero is not an error; a lost
// connection or a command killed by a signal is. If ctx ends first Run
// returns at once: the session is sent SIGKILL and closed (a server that
// ignores both lets the command run on until Client.Close).
func (c *Client) Run(ctx context.Context, cmd string) (Result, error) {
	return c.RunInput(ctx, cmd, nil)
}

// RunInput is Run with stdin fed from in (nil for none).
func (c *Client) RunInput(ctx context.Context, cmd string, in io.Reader) (Result, error) {
	s, err := c.c.NewSession()
	if err != nil {
		return Result{}, fmt.Errorf("ssh session: %w", err)
	}
	defer s.Close()
	var stdout, stderr lockedBuffer
	s.Stdout, s.Stderr, s.Stdin = &stdout, &stderr, in
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL) // Close below ends the session either way
		s.Close()
		return Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, fmt.Errorf("ssh run %q: %w", cmd, ctx.Err())
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exit *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Signal() == "":
		res.ExitCode = exit.ExitStatus()
	default:
		return res, fmt.Errorf("ssh run %q: %w", cmd, err)
	}
	return res, nil
}

// lockedBuffer lets a session's copier write while Run returns early.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// SSH returns the underlying client (for port forwards, SFTP, ...).
func (c *Client) SSH() *ssh.Client { return c.c }

// Run dials (retrying until the server is up or ctx ends), runs cmd and
// closes the connection.
func Run(ctx context.Context, o Options, cmd string) (Result, error) {
	c, err := Dial(ctx, o)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	return c.Run(ctx, cmd)
}
