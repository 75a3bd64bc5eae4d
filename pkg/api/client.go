package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Client is a Backend over the API socket.
type Client struct {
	socket string
	http   *http.Client
}

var _ Backend = (*Client)(nil)

// NewClient returns a client of the API served at socket (DefaultSocket if
// empty). It connects lazily, on the first call.
func NewClient(socket string) *Client {
	if socket == "" {
		socket = DefaultSocket
	}
	return NewClientDial(socket, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	})
}

// NewClientDial returns a client that reaches the API through dial, e.g.
// the socket of a remote machine forwarded over SSH; name says where, in
// errors.
func NewClientDial(name string, dial func(ctx context.Context) (net.Conn, error)) *Client {
	c := &Client{socket: name}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := dial(ctx)
			if err != nil {
				return nil, &UnreachableError{Socket: name, Err: err}
			}
			return conn, nil
		},
		MaxIdleConns:      4,
		DisableKeepAlives: false,
	}
	c.http = &http.Client{Transport: tr}
	return c
}

// Socket returns the path the client connects to.
func (c *Client) Socket() string { return c.socket }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// ErrUnreachable is wrapped by the error of a call that could not connect.
var ErrUnreachable = errors.New("cannot reach rosd")

// UnreachableError is a failure to connect to the socket.
type UnreachableError struct {
	Socket string
	Err    error
}

func (e *UnreachableError) Error() string {
	msg := e.Err.Error()
	var errno syscall.Errno
	if errors.As(e.Err, &errno) {
		msg = errno.Error()
		switch errno {
		case syscall.EACCES, syscall.EPERM:
			msg += " (are you root or in group " + DefaultGroup + "?)"
		case syscall.ENOENT, syscall.ECONNREFUSED:
			msg += " (is rosd running?)"
		}
	}
	return fmt.Sprintf("cannot reach rosd at %s: %s", e.Socket, msg)
}

func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// request describes one call.
type request struct {
	method string
	path   string
	query  url.Values
	body   io.Reader
	ctype  string
}

// do sends r and returns the response if its status is 2xx, else the
// server's error.
func (c *Client) do(ctx context.Context, r request) (*http.Response, error) {
	u := "http://rosd" + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, r.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) {
			return nil, ue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readError(resp)
}

// readError turns a non-2xx response into an *Error.
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb errorBody
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		msg = eb.Error
	}
	if msg == "" {
		msg = resp.Status
	}
	return &Error{Status: resp.StatusCode, Message: msg}
}

// call sends a JSON body (if in is not nil) and decodes a JSON answer into
// out (if not nil).
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	r := request{method: method, path: path, query: query}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		r.body, r.ctype = bytes.NewReader(b), "application/json"
	}
	return c.callRaw(ctx, r, out)
}

func (c *Client) callRaw(ctx context.Context, r request, out any) error {
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)
	}
	return nil
}

func servicePath(name string, rest ...string) string {
	p := "/v1/services/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// System implements Backend.
func (c *Client) System(ctx context.Context) (*System, error) {
	var s System
	if err := c.call(ctx, "GET", "/v1/system", nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Services implements Backend.
func (c *Client) Services(ctx context.Context) ([]Service, error) {
	var s []Service
	if err := c.call(ctx, "GET", "/v1/services", nil, nil, &s); err != nil {
		return nil, err
	}
	return s, nil
}

// Service implements Backend.
func (c *Client) Service(ctx context.Context, name string) (*ServiceDetail, error) {
	var s ServiceDetail
	if err := c.call(ctx, "GET", servicePath(name), nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ServiceAction implements Backend.
func (c *Client) ServiceAction(ctx context.Context, name, action string) error {
	if !slices.Contains(Actions, action) {
		return fmt.Errorf("%w: unknown service action %q (want one of %s)", ErrInvalid, action, strings.Join(Actions, ", "))
	}
	return c.call(ctx, "POST", servicePath(name, url.PathEscape(action)), nil, nil, nil)
}

// AddService implements Backend.
func (c *Client) AddService(ctx context.Context, req AddServiceRequest) (*Service, error) {
	var s Service
	if err := c.call(ctx, "POST", "/v1/services", nil, req, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// RemoveService implements Backend.
func (c *Client) RemoveService(ctx context.Context, name string) error {
	return c.call(ctx, "DELETE", servicePath(name), nil, nil, nil)
}

// Logs implements Backend. With follow it returns when ctx is done, with
// ctx's error.
func (c *Client) Logs(ctx context.Context, name string, lines int, follow bool, w io.Writer) error {
	q := url.Values{}
	if lines > 0 {
		q.Set("lines", strconv.Itoa(lines))
	}
	if follow {
		q.Set("follow", "true")
	}
	resp, err := c.do(ctx, request{method: "GET", path: servicePath(name, "logs"), query: q})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("logs of %s: %w", name, err)
	}
	return trailerError(resp)
}

// Exec implements Backend.
func (c *Client) Exec(ctx context.Context, name string, req ExecRequest, w io.Writer) (int, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", name, err)
	}
	resp, err := c.do(ctx, request{method: "POST", path: servicePath(name, "exec"), body: bytes.NewReader(b), ctype: "application/json"})
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, fmt.Errorf("exec in %s: %w", name, err)
	}
	if err := trailerError(resp); err != nil {
		return -1, err
	}
	v := resp.Trailer.Get(TrailerExitCode)
	code, err := strconv.Atoi(v)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: no exit code in the answer (trailer %s=%q)", name, TrailerExitCode, v)
	}
	return code, nil
}

// trailerError returns the error a stream reported after it began.
func trailerError(resp *http.Response) error {
	if msg := resp.Trailer.Get(TrailerError); msg != "" {
		return &Error{Status: http.StatusInternalServerError, Message: msg}
	}
	return nil
}

// Config implements Backend.
func (c *Client) Config(ctx context.Context, private bool) ([]byte, error) {
	q := url.Values{}
	if private {
		q.Set("private", "true")
	}
	resp, err := c.do(ctx, request{method: "GET", path: "/v1/config", query: q})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET /v1/config: %w", err)
	}
	return b, nil
}

// ConfigGet implements Backend.
func (c *Client) ConfigGet(ctx context.Context, key string) (any, error) {
	var v configValue
	if err := c.call(ctx, "GET", "/v1/config/get", url.Values{"key": {key}}, nil, &v); err != nil {
		return nil, err
	}
	return v.Value, nil
}

// ConfigSet implements Backend.
func (c *Client) ConfigSet(ctx context.Context, key, yamlValue string) (*ApplyResult, error) {
	var res ApplyResult
	if err := c.call(ctx, "POST", "/v1/config/set", nil, configSetRequest{Key: key, Value: yamlValue}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ConfigMerge implements Backend.
func (c *Client) ConfigMerge(ctx context.Context, yaml []byte) (*ApplyResult, error) {
	var res ApplyResult
	r := request{method: "POST", path: "/v1/config/merge", body: bytes.NewReader(yaml), ctype: "application/yaml"}
	if err := c.callRaw(ctx, r, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ConfigValidate implements Backend.
func (c *Client) ConfigValidate(ctx context.Context, yaml []byte) (*Validation, error) {
	var v Validation
	r := request{method: "POST", path: "/v1/config/validate", body: bytes.NewReader(yaml), ctype: "application/yaml"}
	if err := c.callRaw(ctx, r, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ConfigHistory implements Backend.
func (c *Client) ConfigHistory(ctx context.Context, limit int) ([]ConfigRecord, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var recs []ConfigRecord
	if err := c.call(ctx, "GET", "/v1/config/history", q, nil, &recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// Events implements Backend.
func (c *Client) Events(ctx context.Context, since int64, limit int) ([]Event, error) {
	q := url.Values{}
	if since > 0 {
		q.Set("since", strconv.FormatInt(since, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var evs []Event
	if err := c.call(ctx, "GET", "/v1/events", q, nil, &evs); err != nil {
		return nil, err
	}
	return evs, nil
}

// Engines implements Backend.
func (c *Client) Engines(ctx context.Context) ([]Engine, error) {
	var es []Engine
	if err := c.call(ctx, "GET", "/v1/engines", nil, nil, &es); err != nil {
		return nil, err
	}
	return es, nil
}

// SwitchEngine implements Backend.
func (c *Client) SwitchEngine(ctx context.Context, name string) (*ApplyResult, error) {
	var res ApplyResult
	if err := c.call(ctx, "POST", "/v1/engines/"+url.PathEscape(name)+"/switch", nil, nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
