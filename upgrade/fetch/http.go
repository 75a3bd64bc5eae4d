package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ros-os/ros/upgrade/progress"
)

// infoSuffix names the file next to dst+".part" that records what the part
// file is a prefix of, so a later Fetch can resume it safely.
const infoSuffix = ".info"

// StatusError is an HTTP answer other than 200/206. errors.Is(err,
// ErrNotFound) holds for 404 and 410.
type StatusError struct {
	URL    string // the URL that answered (after redirects)
	Code   int
	Status string
}

func (e *StatusError) Error() string { return "GET " + e.URL + ": " + e.Status }

// Is makes 404 and 410 match ErrNotFound.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && (e.Code == http.StatusNotFound || e.Code == http.StatusGone)
}

// resumeInfo is the content of dst+".part.info".
type resumeInfo struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Size         int64  `json:"size"` // -1 when the server did not say
}

// retryError marks a failure worth another attempt.
type retryError struct{ err error }

func (r retryError) Error() string { return r.err.Error() }
func (r retryError) Unwrap() error { return r.err }

type httpDownload struct {
	*download
	url    string
	client *http.Client
	info   resumeInfo
}

func fetchHTTP(ctx context.Context, url, dst string, o Options) error {
	h := &httpDownload{url: url, client: o.Client}
	if h.client == nil {
		h.client = http.DefaultClient
	}
	attempts, delay := o.Attempts, o.RetryDelay
	if attempts <= 0 {
		attempts = 5
	}
	if delay <= 0 {
		delay = time.Second
	}
	d, err := h.open(ctx, dst, o)
	if err != nil {
		return err
	}
	h.download = d
	for i := 1; ; i++ {
		err := h.attempt(ctx)
		if err == nil {
			return h.finish()
		}
		var retry retryError
		if !errors.As(err, &retry) || i >= attempts || ctx.Err() != nil {
			h.f.Close() // keep the part file: a later Fetch resumes it
			if i > 1 {
				return fmt.Errorf("after %d attempts: %w", i, err)
			}
			return err
		}
		select {
		case <-ctx.Done():
			h.f.Close()
			return ctx.Err()
		case <-time.After(time.Duration(i) * delay):
		}
	}
}

// open opens dst+".part", keeping what it holds when its resume info says
// it is a prefix of this URL and it can be checked (a validator for
// If-Range, or an expected sha256).
func (h *httpDownload) open(ctx context.Context, dst string, o Options) (*download, error) {
	d := &download{dst: dst, part: dst + ".part", o: o, total: -1}
	d.h = newHash()
	f, err := os.OpenFile(d.part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	d.f = f
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	d.done = st.Size()
	h.info = readInfo(d.part + infoSuffix)
	checkable := validator(h.info) != "" || o.SHA256 != ""
	if h.info.URL != h.url || !checkable || (o.Size > 0 && d.done > o.Size) {
		h.info = resumeInfo{URL: h.url, Size: -1}
		if err := h.restart(d); err != nil {
			f.Close()
			return nil, err
		}
		return d, nil
	}
	if d.done > 0 && o.SHA256 != "" {
		// Hash what is already there, so the final check covers all of it.
		if _, err := io.CopyBuffer(d.h, progress.Reader(ctx, io.NewSectionReader(f, 0, d.done)), make([]byte, copyBufferSize)); err != nil {
			f.Close()
			return nil, fmt.Errorf("read %s: %w", d.part, err)
		}
	}
	if _, err := f.Seek(d.done, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// restart empties the part file.
func (h *httpDownload) restart(d *download) error {
	if err := d.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate %s: %w", d.part, err)
	}
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	d.h.Reset()
	d.done, d.reported = 0, 0
	return nil
}

// attempt makes one request and appends what it gets to the part file.
// nil means the part file is complete.
func (h *httpDownload) attempt(ctx context.Context) error {
	if h.done > 0 && h.info.Size > 0 && h.done == h.info.Size {
		return nil // finished earlier, not yet renamed
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "identity") // byte ranges of the file itself
	if h.done > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", h.done))
		if v := validator(h.info); v != "" {
			req.Header.Set("If-Range", v)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return retryError{err}
	}
	defer resp.Body.Close()
	if err := h.accept(resp); err != nil {
		return err
	}
	h.report()
	buf := make([]byte, 256<<10)
	for {
		// A body already buffered reads without noticing ctx: check it.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("after %d bytes: %w", h.done, err)
		}
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := h.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("after %d bytes: %w", h.done, ctx.Err())
			}
			return retryError{fmt.Errorf("connection broke after %d bytes: %w", h.done, rerr)}
		}
	}
	if h.total >= 0 && h.done < h.total {
		return retryError{fmt.Errorf("server sent %d of %d bytes", h.done, h.total)}
	}
	return nil
}

// accept checks the answer and positions the part file for its body.
func (h *httpDownload) accept(resp *http.Response) error {
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		// A full answer: the server ignored Range, or If-Range found the
		// file changed. Start over.
		if err := h.restart(h.download); err != nil {
			return err
		}
		if h.o.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != h.o.Size {
			h.discard()
			return fmt.Errorf("%w: server offers %d bytes, want %d", ErrSize, resp.ContentLength, h.o.Size)
		}
		h.info = resumeInfo{URL: h.url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Size: resp.ContentLength}
		h.total = resp.ContentLength
		if h.total < 0 && h.o.Size > 0 {
			h.total = h.o.Size // for progress; finish checks the real size
		}
		return writeInfo(h.part+infoSuffix, h.info)
	case code == http.StatusPartialContent:
		start, total, err := contentRange(resp.Header.Get("Content-Range"))
		if err == nil && start != h.done {
			err = fmt.Errorf("server resumed at byte %d, want %d", start, h.done)
		}
		if err == nil && total >= 0 && h.info.Size >= 0 && total != h.info.Size {
			err = fmt.Errorf("file is now %d bytes, was %d", total, h.info.Size)
		}
		if err != nil {
			h.info = resumeInfo{URL: h.url, Size: -1}
			if rerr := h.restart(h.download); rerr != nil {
				return rerr
			}
			return retryError{fmt.Errorf("bad partial answer, starting over: %w", err)}
		}
		if h.o.Size > 0 && total >= 0 && total != h.o.Size {
			h.discard()
			return fmt.Errorf("%w: server offers %d bytes, want %d", ErrSize, total, h.o.Size)
		}
		h.total = total
		return nil
	case code == http.StatusRequestedRangeNotSatisfiable && h.done > 0:
		h.info = resumeInfo{URL: h.url, Size: -1}
		if err := h.restart(h.download); err != nil {
			return err
		}
		return retryError{fmt.Errorf("server refused the range, starting over")}
	default:
		err := &StatusError{URL: resp.Request.URL.String(), Code: code, Status: resp.Status}
		if code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests {
			return retryError{err}
		}
		return err
	}
}

// contentRange parses "bytes START-END/TOTAL" (TOTAL may be *: -1).
func contentRange(s string) (start, total int64, err error) {
	bad := fmt.Errorf("bad Content-Range %q", s)
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, bad
	}
	rng, tot, ok := strings.Cut(rest, "/")
	first, _, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return 0, 0, bad
	}
	if start, err = strconv.ParseInt(first, 10, 64); err != nil {
		return 0, 0, bad
	}
	if tot == "*" {
		return start, -1, nil
	}
	if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
		return 0, 0, bad
	}
	return start, total, nil
}

// validator is the If-Range value: a strong ETag, else Last-Modified.
func validator(info resumeInfo) string {
	if info.ETag != "" && !strings.HasPrefix(info.ETag, "W/") {
		return info.ETag
	}
	return info.LastModified
}

func readInfo(path string) resumeInfo {
	var info resumeInfo
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &info) != nil {
		return resumeInfo{Size: -1}
	}
	return info
}

func writeInfo(path string, info resumeInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("save resume info: %w", err)
	}
	return nil
}
