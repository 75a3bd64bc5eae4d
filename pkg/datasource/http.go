package datasource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DefaultBaseURL is where cloud metadata services answer.
const DefaultBaseURL = "http://169.254.169.254"

// Defaults for HTTPOptions fields left zero.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultMinBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff     = 2 * time.Second
)

// maxBody bounds what one response may hold (user-data is 16 KiB on EC2 and
// 64 KiB on most others; a generous cap keeps a broken server from eating
// memory).
const maxBody = 32 << 20

// HTTPOptions configure a source that talks HTTP. The zero value is usable.
type HTTPOptions struct {
	// BaseURL of the metadata service; DefaultBaseURL when empty.
	BaseURL string
	// Client sends the requests; when nil, a client that ignores proxy
	// variables (a metadata address must never go through a proxy).
	Client *http.Client
	// Timeout bounds one Fetch, retries included (DefaultTimeout).
	Timeout time.Duration
	// RequestTimeout bounds one request (DefaultRequestTimeout).
	RequestTimeout time.Duration
	// MinBackoff and MaxBackoff bound the pause between retries; it starts at
	// MinBackoff and doubles up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives progress (retries) at debug level; nil discards it.
	Logger *slog.Logger
}

var noProxyClient = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	return t
}()}

func (o HTTPOptions) base() string {
	if o.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(o.BaseURL, "/")
}

func (o HTTPOptions) client() *http.Client {
	if o.Client == nil {
		return noProxyClient
	}
	return o.Client
}

func (o HTTPOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// response is one final HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// fetcher sends requests for one Fetch call, retrying transient failures
// (transport errors, 429, 5xx) with backoff until its context ends.
type fetcher struct {
	opts   HTTPOptions
	parent context.Context // the caller's context, to tell its end from ours
	ctx    context.Context // parent plus Timeout
	log    *slog.Logger
}

// newFetcher starts the deadline of one Fetch; call the cancel func when done.
func newFetcher(ctx context.Context, o HTTPOptions, source string) (*fetcher, context.CancelFunc) {
	tctx, cancel := context.WithTimeout(ctx, orDefault(o.Timeout, DefaultTimeout))
	return &fetcher{opts: o, parent: ctx, ctx: tctx, log: o.logger().With("datasource", source)}, cancel
}

// do sends one request and returns the first answer that is not transient.
// When the deadline passes it returns an error wrapping the parent context's
// error if the caller gave up, ErrNotFound if the server never answered,
// and a plain error if it answered only with server errors.
func (f *fetcher) do(method, url string, header http.Header) (*response, error) {
	if err := f.parent.Err(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	backoff := orDefault(f.opts.MinBackoff, DefaultMinBackoff)
	maxBackoff := orDefault(f.opts.MaxBackoff, DefaultMaxBackoff)
	var last error
	answered := false
	for attempt := 1; ; attempt++ {
		resp, err := f.once(method, url, header)
		switch {
		case err != nil:
			last = err
		case resp.status == http.StatusTooManyRequests || resp.status >= 500:
			answered = true
			last = fmt.Errorf("%s %s: server answered %d", method, url, resp.status)
		default:
			return resp, nil
		}
		f.log.Debug("metadata request failed, retrying", "url", url, "attempt", attempt, "err", last, "backoff", backoff)
		select {
		case <-f.ctx.Done():
			switch {
			case f.parent.Err() != nil:
				return nil, fmt.Errorf("%s %s: gave up after %d attempts (%v): %w", method, url, attempt, last, f.parent.Err()) //nolint:errorlint // the caller's context error alone classifies this; last is for the message
			case answered:
				return nil, fmt.Errorf("%s %s: gave up after %d attempts: %w", method, url, attempt, last)
			default:
				return nil, fmt.Errorf("%s %s: %d attempts (%v): %w", method, url, attempt, last, errNoAnswer) //nolint:errorlint // errNoAnswer alone classifies this (last is often a timeout); last is for the message
			}
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func (f *fetcher) once(method, url string, header http.Header) (*response, error) {
	ctx, cancel := context.WithTimeout(f.ctx, orDefault(f.opts.RequestTimeout, DefaultRequestTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.opts.client().Do(req)
	if err != nil {
		return nil, err // already names method and URL
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%s %s: body larger than %d bytes", method, url, maxBody)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

var (
	// errStatus is a final answer that is neither success nor "not found".
	errStatus = errors.New("unexpected HTTP status")
	// errMissing is an answer of 404 or 410: the server is there, the path
	// is not. It matches ErrNotFound.
	errMissing = fmt.Errorf("no such path: %w", ErrNotFound)
	// errNoAnswer is a server that could not be reached or never answered
	// before the deadline. It matches ErrNotFound.
	errNoAnswer = fmt.Errorf("no answer: %w", ErrNotFound)
)

// get fetches url and returns its body. 404 and 410 give ErrNotFound; other
// non-2xx statuses give an error wrapping errStatus.
func (f *fetcher) get(url string, header http.Header) ([]byte, error) {
	resp, err := f.do(http.MethodGet, url, header)
	if err != nil {
		return nil, err
	}
	return checkStatus(http.MethodGet, url, resp)
}

// optional is get where "not found" means "none": it returns nil, nil.
func (f *fetcher) optional(url string, header http.Header) ([]byte, error) {
	b, err := f.get(url, header)
	if errors.Is(err, errMissing) {
		return nil, nil
	}
	return b, err
}

func checkStatus(method, url string, resp *response) ([]byte, error) {
	switch {
	case resp.status >= 200 && resp.status < 300:
		return resp.body, nil
	case resp.status == http.StatusNotFound || resp.status == http.StatusGone:
		return nil, fmt.Errorf("%s %s: %d: %w", method, url, resp.status, errMissing)
	default:
		return nil, fmt.Errorf("%s %s: %d: %w", method, url, resp.status, errStatus)
	}
}
