package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// maxBody bounds request bodies (user-data, service definitions).
const maxBody = 16 << 20

// Trailers of streamed responses.
const (
	TrailerExitCode = "X-Exit-Code" // exec: the command's exit code
	TrailerError    = "X-Error"     // logs, exec: an error after output began
)

// Option configures the handler.
type Option func(*handler)

// WithAccess replaces the peer check (default Access{}.Check: root or group
// ros per /etc/group).
func WithAccess(check func(PeerCred) error) Option {
	return func(h *handler) { h.check = check }
}

type handler struct {
	b     Backend
	log   *slog.Logger
	check func(PeerCred) error
	mux   *http.ServeMux
}

// NewHandler serves b over HTTP. It refuses requests whose connection
// carries no peer credentials or whose peer fails the access check, so it
// must be served by an http.Server whose ConnContext is ConnContext (see
// NewServer).
func NewHandler(b Backend, log *slog.Logger, opts ...Option) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{b: b, log: log, check: Access{}.Check, mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	for _, rt := range routes() {
		h.mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			err := rt.serve(h, w, r)
			if err != nil {
				h.writeError(w, r, err)
			}
			h.log.Debug("api request", "method", r.Method, "path", r.URL.Path, "took", time.Since(start), "err", err)
		})
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cred, ok := PeerCredFromContext(r.Context())
	if !ok {
		h.writeError(w, r, fmt.Errorf("%w: peer credentials unknown", ErrForbidden))
		return
	}
	if err := h.check(cred); err != nil {
		h.writeError(w, r, err)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	if status >= 500 {
		h.log.Warn("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON request body strictly into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %w", ErrInvalid, err)
	}
	return nil
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("%w: request body over %d bytes", ErrInvalid, maxBody)
	}
	return b, nil
}

func queryInt(r *http.Request, key string) (int64, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: query %s=%q: not an integer", ErrInvalid, key, v)
	}
	return n, nil
}

func queryBool(r *http.Request, key string) (bool, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: query %s=%q: not a boolean", ErrInvalid, key, v)
	}
	return b, nil
}

func (h *handler) system(w http.ResponseWriter, r *http.Request) error {
	s, err := h.b.System(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) services(w http.ResponseWriter, r *http.Request) error {
	s, err := h.b.Services(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(s))
	return nil
}

func (h *handler) service(w http.ResponseWriter, r *http.Request) error {
	s, err := h.b.Service(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) addService(w http.ResponseWriter, r *http.Request) error {
	var req AddServiceRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	s, err := h.b.AddService(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s)
	return nil
}

func (h *handler) removeService(w http.ResponseWriter, r *http.Request) error {
	if err := h.b.RemoveService(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) logs(w http.ResponseWriter, r *http.Request) error {
	lines, err := queryInt(r, "lines")
	if err != nil {
		return err
	}
	follow, err := queryBool(r, "follow")
	if err != nil {
		return err
	}
	sw := newStreamWriter(w, TrailerError)
	err = h.b.Logs(r.Context(), r.PathValue("name"), int(lines), follow, sw)
	if r.Context().Err() != nil {
		return nil // the client went away: nothing to tell it
	}
	return sw.finish(err, nil)
}

func (h *handler) exec(w http.ResponseWriter, r *http.Request) error {
	var req ExecRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.Args) == 0 {
		return fmt.Errorf("%w: exec: no command", ErrInvalid)
	}
	sw := newStreamWriter(w, TrailerExitCode, TrailerError)
	code, err := h.b.Exec(r.Context(), r.PathValue("name"), req, sw)
	return sw.finish(err, map[string]string{TrailerExitCode: strconv.Itoa(code)})
}

func (h *handler) config(w http.ResponseWriter, r *http.Request) error {
	private, err := queryBool(r, "private")
	if err != nil {
		return err
	}
	b, err := h.b.Config(r.Context(), private)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(b) //nolint:gosec // G705: YAML over the local API socket, never rendered as HTML
	return nil
}

// configValue is the answer of GET /v1/config/get.
type configValue struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// configSetRequest is the body of POST /v1/config/set.
type configSetRequest struct {
	Key   string `json:"key"`
	Value string `json:"value"` // YAML
}

func (h *handler) configGet(w http.ResponseWriter, r *http.Request) error {
	key := r.URL.Query().Get("key")
	if key == "" {
		return fmt.Errorf("%w: config get: no key", ErrInvalid)
	}
	v, err := h.b.ConfigGet(r.Context(), key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, configValue{Key: key, Value: v})
	return nil
}

func (h *handler) configSet(w http.ResponseWriter, r *http.Request) error {
	var req configSetRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Key == "" {
		return fmt.Errorf("%w: config set: no key", ErrInvalid)
	}
	res, err := h.b.ConfigSet(r.Context(), req.Key, req.Value)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *handler) configMerge(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	res, err := h.b.ConfigMerge(r.Context(), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *handler) configValidate(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	v, err := h.b.ConfigValidate(r.Context(), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (h *handler) configHistory(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	recs, err := h.b.ConfigHistory(r.Context(), int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(recs))
	return nil
}

func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
	since, err := queryInt(r, "since")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	evs, err := h.b.Events(r.Context(), since, int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(evs))
	return nil
}

func (h *handler) engines(w http.ResponseWriter, r *http.Request) error {
	es, err := h.b.Engines(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(es))
	return nil
}

func (h *handler) switchEngine(w http.ResponseWriter, r *http.Request) error {
	res, err := h.b.SwitchEngine(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// streamWriter writes a text/plain response flushed on every write. The
// status line goes out with the first byte, so an error before any output
// can still be answered with its status; trailers carry the rest.
type streamWriter struct {
	mu       sync.Mutex
	w        http.ResponseWriter
	rc       *http.ResponseController
	trailers []string
	started  bool
}

func newStreamWriter(w http.ResponseWriter, trailers ...string) *streamWriter {
	return &streamWriter{w: w, rc: http.NewResponseController(w), trailers: trailers}
}

func (s *streamWriter) start() {
	if s.started {
		return
	}
	s.started = true
	hd := s.w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	for _, t := range s.trailers {
		hd.Add("Trailer", t)
	}
	s.w.WriteHeader(http.StatusOK)
}

// Write writes p and flushes it to the client. It is safe for concurrent
// use (exec writes stdout and stderr from two goroutines).
func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.start()
	n, err := s.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := s.rc.Flush(); err != nil {
		return n, err
	}
	return n, nil
}

// finish ends the stream. An error before any output is returned for the
// caller to answer with a status; after output it goes in the X-Error
// trailer.
func (s *streamWriter) finish(err error, trailers map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && !s.started {
		return err
	}
	s.start()
	for k, v := range trailers {
		s.w.Header().Set(k, v)
	}
	if err != nil {
		s.w.Header().Set(TrailerError, err.Error())
	}
	return nil
}
