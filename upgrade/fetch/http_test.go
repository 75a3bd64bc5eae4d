package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ros-os/ros/upgrade/progress"
)

// request records what one request asked for and got.
type request struct {
	rangeHdr, ifRange string
	status            int
	served            int64 // body bytes written
}

// server serves one file with http.ServeContent (Range, If-Range, ETag,
// Last-Modified), and can cut connections or ignore Range.
type server struct {
	mu          sync.Mutex
	data        []byte
	etag        string
	cut         map[int]int64 // request index -> abort after this many body bytes
	fail        map[int]int   // request index -> answer this status
	ignoreRange bool
	reqs        []*request
}

var modTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.reqs)
	req := &request{rangeHdr: r.Header.Get("Range"), ifRange: r.Header.Get("If-Range")}
	s.reqs = append(s.reqs, req)
	data, etag, cut, fail := s.data, s.etag, s.cut[i], s.fail[i]
	s.mu.Unlock()
	if fail != 0 {
		req.status = fail
		http.Error(w, http.StatusText(fail), fail)
		return
	}
	if s.ignoreRange {
		r.Header.Del("Range")
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	cw := &cutWriter{ResponseWriter: w, req: req, mu: &s.mu, limit: cut}
	http.ServeContent(cw, r, "ros.bundle", modTime, bytes.NewReader(data))
}

type cutWriter struct {
	http.ResponseWriter
	mu    *sync.Mutex
	req   *request
	limit int64
}

func (c *cutWriter) WriteHeader(code int) {
	c.mu.Lock()
	c.req.status = code
	c.mu.Unlock()
	c.ResponseWriter.WriteHeader(code)
}

func (c *cutWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.req.status == 0 {
		c.req.status = http.StatusOK
	}
	cut := c.limit > 0 && c.req.served+int64(len(p)) >= c.limit
	if cut {
		p = p[:c.limit-c.req.served]
	}
	c.req.served += int64(len(p))
	c.mu.Unlock()
	n, err := c.ResponseWriter.Write(p)
	if cut {
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	return n, err
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request
	for _, r := range s.reqs {
		out = append(out, *r)
	}
	return out
}

func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func start(t *testing.T, s *server) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, srv.URL + "/ros-v2.bundle"
}

func checkDone(t *testing.T, dst string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatalf("read %s: %v", dst, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the served file (%d vs %d bytes)", dst, len(got), len(want))
	}
	for _, leftover := range []string{dst + ".part", dst + ".part" + infoSuffix} {
		if _, err := os.Stat(leftover); !os.IsNotExist(err) {
			t.Errorf("%s left behind after a complete download", leftover)
		}
	}
}

func TestHTTPResume(t *testing.T) {
	for _, tt := range []struct {
		name, etag, wantIfRange string
	}{
		{"etag", `"v2-abc"`, `"v2-abc"`},
		{"last-modified only", "", modTime.Format(http.TimeFormat)},
		{"weak etag uses last-modified", `W/"weak"`, modTime.Format(http.TimeFormat)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := randomData(3<<20+123, 1)
			s := &server{data: data, etag: tt.etag, cut: map[int]int64{0: 1<<20 + 5000}}
			srv, url := start(t, s)
			dst := filepath.Join(t.TempDir(), "ros.bundle")
			var calls []int64
			err := Fetch(context.Background(), url, dst, Options{
				Client: srv.Client(), SHA256: sum(data), RetryDelay: time.Millisecond,
				Progress: func(done, total int64) {
					calls = append(calls, done)
					if total != int64(len(data)) {
						t.Errorf("progress total = %d, want %d", total, len(data))
					}
				},
			})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			checkDone(t, dst, data)
			reqs := s.requests()
			if len(reqs) != 2 {
				t.Fatalf("server saw %d requests, want 2", len(reqs))
			}
			first := reqs[0].served
			if want := "bytes=" + itoa(first) + "-"; reqs[1].rangeHdr != want || reqs[1].ifRange != tt.wantIfRange {
				t.Errorf("second request Range %q If-Range %q, want %q and %q", reqs[1].rangeHdr, reqs[1].ifRange, want, tt.wantIfRange)
			}
			if reqs[1].status != http.StatusPartialContent {
				t.Errorf("second answer = %d, want 206", reqs[1].status)
			}
			if total := first + reqs[1].served; total != int64(len(data)) {
				t.Errorf("served %d + %d = %d bytes, want exactly %d (nothing downloaded twice)", first, reqs[1].served, total, len(data))
			}
			checkProgress(t, calls, int64(len(data)))
		})
	}
}

// checkProgress: monotonic, no gap much above a MiB, ends at the total.
func checkProgress(t *testing.T, calls []int64, total int64) {
	t.Helper()
	if len(calls) == 0 || calls[len(calls)-1] != total {
		t.Fatalf("progress calls %v, want the last to be %d", calls, total)
	}
	prev := int64(0)
	for _, c := range calls {
		if c < prev && c != 0 {
			t.Errorf("progress went back: %v", calls)
		}
		if c-prev > progress.Step+256<<10 {
			t.Errorf("progress gap %d bytes, want about 1 MiB at most: %v", c-prev, calls)
		}
		prev = c
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestHTTPResumeAcrossCalls(t *testing.T) {
	data := randomData(2<<20, 2)
	s := &server{data: data, etag: `"e1"`, cut: map[int]int64{0: 700_000}}
	srv, url := start(t, s)
	dst := filepath.Join(t.TempDir(), "ros.bundle")
	o := Options{Client: srv.Client(), Attempts: 1}
	err := Fetch(context.Background(), url, dst, o)
	if err == nil || !strings.Contains(err.Error(), url) {
		t.Fatalf("Fetch(cut, 1 attempt) = %v, want an error naming %s", err, url)
	}
	if st, err := os.Stat(dst + ".part"); err != nil || st.Size() != s.requests()[0].served {
		t.Fatalf("after a cut: .part = %v, %v; want %d bytes kept", st, err, s.requests()[0].served)
	}
	if err := Fetch(context.Background(), url, dst, o); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	checkDone(t, dst, data)
	reqs := s.requests()
	if reqs[1].rangeHdr != "bytes="+itoa(reqs[0].served)+"-" || reqs[0].served+reqs[1].served != int64(len(data)) {
		t.Errorf("requests %+v, want the second to resume where the first broke", reqs)
	}
}

func TestHTTPServerIgnoresRange(t *testing.T) {
	data := randomData(2<<20+1, 3)
	s := &server{data: data, etag: `"e1"`, cut: map[int]int64{0: 1 << 20}, ignoreRange: true}
	srv, url := start(t, s)
	dst := filepath.Join(t.TempDir(), "ros.bundle")
	if err := Fetch(context.Background(), url, dst, Options{Client: srv.Client(), SHA256: sum(data), RetryDelay: time.Millisecond}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	checkDone(t, dst, data)
	reqs := s.requests()
	if len(reqs) != 2 || reqs[1].rangeHdr == "" || reqs[1].status != http.StatusOK || reqs[1].served != int64(len(data)) {
		t.Errorf("requests %+v, want a Range request answered 200 with the whole file", reqs)
	}
}

func TestHTTPFileChanged(t *testing.T) {
	old, data := randomData(2<<20, 4), randomData(2<<20+10, 5)
	s := &server{data: old, etag: `"old"`, cut: map[int]int64{0: 1 << 20}}
	srv, url := start(t, s)
	dst := filepath.Join(t.TempDir(), "ros.bundle")
	if err := Fetch(context.Background(), url, dst, Options{Client: srv.Client(), Attempts: 1}); err == nil {
		t.Fatal("Fetch(cut) = nil error, want one")
	}
	s.mu.Lock()
	s.data, s.etag = data, `"new"`
	s.mu.Unlock()
	if err := Fetch(context.Background(), url, dst, Options{Client: srv.Client(), SHA256: sum(data)}); err != nil {
		t.Fatalf("Fetch(after change): %v", err)
	}
	checkDone(t, dst, data)
	if r := s.requests()[1]; r.ifRange != `"old"` || r.status != http.StatusOK {
		t.Errorf("request after change = %+v, want If-Range \"old\" answered 200", r)
	}
}

func TestHTTPRefusals(t *testing.T) {
	data := randomData(100_000, 6)
	tests := []struct {
		name  string
		path  string
		o     Options
		want  error
		reqs  int
		fails map[int]int
	}{
		{"hash mismatch", "/ros.bundle", Options{SHA256: sum([]byte("other"))}, ErrHash, 1, nil},
		{"size mismatch", "/ros.bundle", Options{Size: 99_999}, ErrSize, 1, nil},
		{"404", "/missing.bundle", Options{}, ErrNotFound, 1, nil},
		{"403 not retried", "/ros.bundle", Options{}, nil, 1, map[int]int{0: 403}},
		{"500 retried", "/ros.bundle", Options{Attempts: 3}, nil, 3, map[int]int{0: 500, 1: 503, 2: 502}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &server{data: data, fail: tt.fails}
			mux := http.NewServeMux()
			mux.Handle("/ros.bundle", s)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			url := srv.URL + tt.path
			dst := filepath.Join(t.TempDir(), "ros.bundle")
			tt.o.Client, tt.o.RetryDelay = srv.Client(), time.Millisecond
			err := Fetch(context.Background(), url, dst, tt.o)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Fetch(%s) = %v, want %v", tt.name, err, tt.want)
			}
			if !strings.Contains(err.Error(), url) {
				t.Errorf("Fetch(%s) = %q, want it to name %s", tt.name, err, url)
			}
			if errors.Is(tt.want, ErrNotFound) && !strings.Contains(err.Error(), "404") {
				t.Errorf("Fetch(404) = %q, want it to say 404", err)
			}
			if n := len(s.requests()); tt.path != "/missing.bundle" && n != tt.reqs {
				t.Errorf("Fetch(%s) made %d requests, want %d", tt.name, n, tt.reqs)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Errorf("Fetch(%s) left %s", tt.name, dst)
			}
			if errors.Is(tt.want, ErrHash) || errors.Is(tt.want, ErrSize) {
				if _, err := os.Stat(dst + ".part"); !os.IsNotExist(err) {
					t.Errorf("Fetch(%s) kept the .part file, want it deleted", tt.name)
				}
			}
		})
	}
}

func TestHTTPCancel(t *testing.T) {
	data := randomData(4<<20, 8)
	s := &server{data: data, etag: `"e"`}
	srv, url := start(t, s)
	dst := filepath.Join(t.TempDir(), "ros.bundle")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := Fetch(ctx, url, dst, Options{Client: srv.Client(), Progress: func(done, total int64) {
		if done >= 1<<20 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch(cancelled) = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("cancelled Fetch created %s", dst)
	}
	st, err := os.Stat(dst + ".part")
	if err != nil || st.Size() < 1<<20 || st.Size() >= int64(len(data)) {
		t.Errorf("cancelled Fetch: .part = %v, %v; want a partial file kept for resuming", st, err)
	}
	if len(s.requests()) != 1 {
		t.Errorf("cancelled Fetch made %d requests, want 1 (no retry)", len(s.requests()))
	}
}
