package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// OSSlot is one A/B slot.
type OSSlot struct {
	Name    string `json:"name"`
	State   string `json:"state"` // good, trying, bad, writing, empty
	Version string `json:"version,omitempty"`
	Booted  bool   `json:"booted"`
	Next    bool   `json:"next"`
}

// UpgradeRecord is one entry of the upgrade history.
type UpgradeRecord struct {
	Time    time.Time `json:"time"`
	Version string    `json:"version"`
	Slot    string    `json:"slot"`
	Status  string    `json:"status"` // installed, good, failed, rolled-back
	Message string    `json:"message,omitempty"`
}

// OSStatus is the A/B state of the machine.
type OSStatus struct {
	Version string          `json:"version"`
	Live    bool            `json:"live"`
	Booted  string          `json:"booted,omitempty"`
	Next    string          `json:"next,omitempty"`
	Trial   bool            `json:"trial,omitempty"`
	Slots   []OSSlot        `json:"slots,omitempty"`
	History []UpgradeRecord `json:"history,omitempty"`
}

// OSVersion is one version a channel offers.
type OSVersion struct {
	Version   string    `json:"version"`
	Arch      string    `json:"arch"`
	Size      int64     `json:"size"`
	BuildTime time.Time `json:"buildTime,omitzero"`
	Current   bool      `json:"current"`
	Bad       bool      `json:"bad"` // its trial boot failed here
}

// UpgradeRequest asks for an upgrade; see `ros os upgrade --help`.
type UpgradeRequest struct {
	Bundle   string `json:"bundle,omitempty"`
	Image    string `json:"image,omitempty"`
	Version  string `json:"version,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Force    bool   `json:"force,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
	NoReboot bool   `json:"noReboot,omitempty"`
	PauseAt  string `json:"pauseAt,omitempty"` // tests: stop at a step (power-cut tests)
}

// UpgradeResult says what an upgrade did.
type UpgradeResult struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Slot     string        `json:"slot"`
	Bytes    int64         `json:"bytes"`
	Fetch    time.Duration `json:"fetch"`
	Verify   time.Duration `json:"verify"`
	Write    time.Duration `json:"write"`
	ReadBack time.Duration `json:"readBack"`
	Reboot   bool          `json:"reboot"`
}

// InstallRequest asks to install the running OS to a disk.
type InstallRequest struct {
	Device      string `json:"device"`
	CloudConfig string `json:"cloudConfig,omitempty"` // user-data, or a URL rosd fetches
	Force       bool   `json:"force,omitempty"`
	NoReboot    bool   `json:"noReboot,omitempty"`
	Append      string `json:"append,omitempty"` // extra kernel command line
}

// Progress is one line of a long-running call (upgrade, install): a
// phase, bytes done of total, a message; the last line carries the
// result or the error.
type Progress struct {
	Phase   string         `json:"phase,omitempty"`
	Done    int64          `json:"done,omitempty"`
	Total   int64          `json:"total,omitempty"`
	Message string         `json:"message,omitempty"`
	Result  *UpgradeResult `json:"result,omitempty"`
	Error   string         `json:"error,omitempty"`
	Status  int            `json:"status,omitempty"` // HTTP status of Error
}

// RollbackResult says which slot boots next.
type RollbackResult struct {
	Slot    string `json:"slot"`
	Version string `json:"version"`
	Reboot  bool   `json:"reboot"`
}

// OSBackend is the part of Backend that manages the OS itself.
type OSBackend interface {
	// OSStatus describes both slots and the upgrade history.
	OSStatus(ctx context.Context) (*OSStatus, error)
	// OSVersions lists the versions a channel offers ("" = the configured one).
	OSVersions(ctx context.Context, channel string) ([]OSVersion, error)
	// OSUpgrade runs an upgrade, reporting progress; it reboots unless
	// req.NoReboot.
	OSUpgrade(ctx context.Context, req UpgradeRequest, progress func(Progress)) (*UpgradeResult, error)
	// OSRollback arms a trial boot of the other slot; it reboots unless
	// noReboot.
	OSRollback(ctx context.Context, noReboot bool) (*RollbackResult, error)
	// OSInstall installs the running OS to a disk.
	OSInstall(ctx context.Context, req InstallRequest, progress func(Progress)) error
}

func (h *handler) osStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := h.b.OSStatus(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (h *handler) osVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := h.b.OSVersions(r.Context(), r.URL.Query().Get("channel"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, vs)
	return nil
}

func (h *handler) osRollback(w http.ResponseWriter, r *http.Request) error {
	noReboot, _ := strconv.ParseBool(r.URL.Query().Get("noReboot"))
	res, err := h.b.OSRollback(r.Context(), noReboot)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *handler) osUpgrade(w http.ResponseWriter, r *http.Request) error {
	var req UpgradeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	stream := newProgressStream(w)
	res, err := h.b.OSUpgrade(r.Context(), req, stream.send)
	stream.finish(Progress{Result: res}, err)
	return nil
}

func (h *handler) osInstall(w http.ResponseWriter, r *http.Request) error {
	var req InstallRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	stream := newProgressStream(w)
	err := h.b.OSInstall(r.Context(), req, stream.send)
	stream.finish(Progress{Phase: "done"}, err)
	return nil
}

// progressStream writes Progress lines (NDJSON), flushing each.
type progressStream struct {
	mu  sync.Mutex
	w   http.ResponseWriter
	enc *json.Encoder
}

func newProgressStream(w http.ResponseWriter) *progressStream {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	return &progressStream{w: w, enc: json.NewEncoder(w)}
}

func (s *progressStream) send(p Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.enc.Encode(p)
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *progressStream) finish(last Progress, err error) {
	if err != nil {
		last = Progress{Error: err.Error(), Status: StatusOf(err)}
	}
	s.send(last)
}

// OSStatus implements Backend.
func (c *Client) OSStatus(ctx context.Context) (*OSStatus, error) {
	var st OSStatus
	if err := c.call(ctx, "GET", "/v1/os", nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// OSVersions implements Backend.
func (c *Client) OSVersions(ctx context.Context, channel string) ([]OSVersion, error) {
	var q url.Values
	if channel != "" {
		q = url.Values{"channel": {channel}}
	}
	var vs []OSVersion
	if err := c.call(ctx, "GET", "/v1/os/versions", q, nil, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// OSRollback implements Backend.
func (c *Client) OSRollback(ctx context.Context, noReboot bool) (*RollbackResult, error) {
	var res RollbackResult
	q := url.Values{"noReboot": {strconv.FormatBool(noReboot)}}
	if err := c.call(ctx, "POST", "/v1/os/rollback", q, nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// OSUpgrade implements Backend.
func (c *Client) OSUpgrade(ctx context.Context, req UpgradeRequest, progress func(Progress)) (*UpgradeResult, error) {
	last, err := c.stream(ctx, "/v1/os/upgrade", req, progress)
	if err != nil {
		return nil, err
	}
	return last.Result, nil
}

// OSInstall implements Backend.
func (c *Client) OSInstall(ctx context.Context, req InstallRequest, progress func(Progress)) error {
	_, err := c.stream(ctx, "/v1/os/install", req, progress)
	return err
}

// stream posts in and reads Progress lines until the last one, which
// carries the result or the error.
func (c *Client) stream(ctx context.Context, path string, in any, progress func(Progress)) (*Progress, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	resp, err := c.do(ctx, request{method: "POST", path: path, body: bytes.NewReader(b), ctype: "application/json"})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last *Progress
	for sc.Scan() {
		var p Progress
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("POST %s: bad progress line: %w", path, err)
		}
		last = &p
		if p.Error != "" {
			return nil, &Error{Status: p.Status, Message: p.Error}
		}
		if p.Result == nil && progress != nil {
			progress(p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	if last == nil || (last.Result == nil && last.Phase != "done") {
		return nil, fmt.Errorf("POST %s: the answer ended before the result (did rosd stop?)", path)
	}
	return last, nil
}
