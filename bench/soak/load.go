//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// failure is a request (or a websocket or event stream) that went wrong.
type failure struct {
	kind, server string // server: the app server behind the site (gunicorn, asgi)
	start, end   time.Time
	err          string
}

// streamEnd is a websocket or an event stream that ended other than by the
// client: judged at the end against the uvicorn generations it may have
// been attached to.
type streamEnd struct {
	kind              string
	open0, open1, end time.Time
	err               string
}

type minute struct {
	hello    map[string][]time.Duration // by server
	requests int
}

type recorder struct {
	mu       sync.Mutex
	start    time.Time
	counts   map[string]int // requests by kind
	failures []failure
	ends     []streamEnd
	minutes  []*minute
	wsMsgs   atomic.Int64
	wsOpened atomic.Int64
	sseDone  atomic.Int64
}

func newRecorder() *recorder { return &recorder{counts: map[string]int{}} }

func (r *recorder) minute(t time.Time) *minute {
	i := int(t.Sub(r.start) / time.Minute)
	for len(r.minutes) <= i {
		r.minutes = append(r.minutes, &minute{hello: map[string][]time.Duration{}})
	}
	return r.minutes[i]
}

func (r *recorder) request(kind, server string, start time.Time, err error) {
	end := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[kind]++
	m := r.minute(start)
	m.requests++
	if kind == "hello" {
		m.hello[server] = append(m.hello[server], end.Sub(start))
	}
	if err != nil {
		r.failures = append(r.failures, failure{kind: kind, server: server, start: start, end: end, err: err.Error()})
	}
}

func (r *recorder) streamEnded(e streamEnd) {
	r.mu.Lock()
	r.ends = append(r.ends, e)
	r.mu.Unlock()
}

// staticPool is the hashed static URLs with their content; collectstatic
// events add to it (the old URLs stay: they must still be served).
type staticPool struct {
	mu   sync.Mutex
	urls []string
	body map[string][]byte
}

func (p *staticPool) add(url string, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.body[url]; !ok {
		p.urls = append(p.urls, url)
	}
	p.body[url] = body
}

func (p *staticPool) pick(rng *mrand.Rand) (string, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.urls[rng.IntN(len(p.urls))]
	return u, p.body[u]
}

func readManifest(static string) (map[string]string, error) {
	var m struct {
		Paths map[string]string `json:"paths"`
	}
	data, err := os.ReadFile(filepath.Join(static, "staticfiles.json"))
	if err != nil {
		return nil, err
	}
	return m.Paths, json.Unmarshal(data, &m)
}

func (s *soak) readStatics() error {
	paths, err := readManifest(s.static)
	if err != nil {
		return err
	}
	s.statics = &staticPool{body: map[string][]byte{}}
	for _, hashed := range paths {
		if strings.HasPrefix(hashed, "admin/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.static, hashed))
		if err != nil {
			return err
		}
		s.statics.add("/static/"+hashed, data)
	}
	if len(s.statics.urls) == 0 {
		return fmt.Errorf("no hashed static file in the manifest")
	}
	return nil
}

// client is a kept-alive HTTP client; do reports a request the transport
// sent twice (Go resends a GET whose kept-alive connection was closed under
// it: a connection a reload lost, which a client may not notice).
func newClient() *http.Client {
	return &http.Client{Timeout: 120 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}}
}

func do(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	var conns atomic.Int32
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { conns.Add(1) }}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return resp, body, fmt.Errorf("reading the answer: %v", err)
	}
	if n := conns.Load(); n > 1 {
		return resp, body, fmt.Errorf("the client sent it %d times (its kept-alive connection was closed before an answer)", n)
	}
	return resp, body, nil
}

// fetch sends req and checks that the answer has status code.
func fetch(c *http.Client, req *http.Request, code int) (*http.Response, []byte, error) {
	resp, body, err := do(c, req)
	if err == nil {
		err = wantStatus(resp, body, code)
	}
	return resp, body, err
}

// getBytes GETs url (with a Range header unless empty) and checks the
// status and that the body is want.
func getBytes(c *http.Client, url, rng string, code int, want []byte) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, body, err := fetch(c, req, code)
	switch {
	case err != nil:
		return resp, fmt.Errorf("%s %s: %v", url, rng, err)
	case !bytes.Equal(body, want):
		return resp, fmt.Errorf("%s %s: %d bytes, not the file's %d", url, rng, len(body), len(want))
	}
	return resp, nil
}

func wantStatus(resp *http.Response, body []byte, code int) error {
	if resp.StatusCode != code {
		b := string(body)
		if len(b) > 120 {
			b = b[:120]
		}
		return fmt.Errorf("status %d, want %d: %q", resp.StatusCode, code, b)
	}
	return nil
}

// startLoad starts every client; the returned function stops them and
// returns once they have ended.
func (s *soak) startLoad() func() int {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sites := map[string]int{"gunicorn": s.gport, "asgi": s.uport}
	loop := func(kind, server string, pause time.Duration, seed uint64, fn func(c *http.Client, base string, rng *mrand.Rand) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(s.seed, seed))
			c := newClient()
			defer c.CloseIdleConnections()
			base := fmt.Sprintf("http://127.0.0.1:%d", sites[server])
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				err := fn(c, base, rng)
				s.rec.request(kind, server, start, err)
				select {
				case <-stop:
					return
				case <-time.After(pause):
				}
			}
		}()
	}
	hello := func(c *http.Client, base string, _ *mrand.Rand) error {
		req, _ := http.NewRequest(http.MethodGet, base+"/hello/", nil)
		_, body, err := fetch(c, req, 200)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(body, []byte("hello from django")) {
			return fmt.Errorf("body %q", body)
		}
		return nil
	}
	echo := func(min, max int) func(c *http.Client, base string, rng *mrand.Rand) error {
		return func(c *http.Client, base string, rng *mrand.Rand) error {
			data := make([]byte, min+rng.IntN(max-min+1))
			_, _ = rand.Read(data)
			sum := sha256.Sum256(data)
			req, _ := http.NewRequest(http.MethodPost, base+"/echo-size/", bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/octet-stream")
			_, body, err := fetch(c, req, 200)
			if err != nil {
				return err
			}
			var got struct {
				Size   int    `json:"size"`
				SHA256 string `json:"sha256"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				return fmt.Errorf("answer %q: %v", body, err)
			}
			if got.Size != len(data) || got.SHA256 != hex.EncodeToString(sum[:]) {
				return fmt.Errorf("the app got %d bytes (sha256 %.12s), sent %d (%.12x)", got.Size, got.SHA256, len(data), sum)
			}
			return nil
		}
	}
	static := func(c *http.Client, base string, rng *mrand.Rand) error {
		url, want := s.statics.pick(rng)
		resp, err := getBytes(c, base+url, "", 200, want)
		if err != nil {
			return err
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			return fmt.Errorf("%s: Cache-Control %q, want immutable", url, cc)
		}
		return nil
	}
	media := func(c *http.Client, base string, rng *mrand.Rand) error {
		n := len(s.media1)
		from := rng.IntN(n)
		to := min(n-1, from+rng.IntN(512<<10))
		_, err := getBytes(c, base+"/media/soak.bin", fmt.Sprintf("bytes=%d-%d", from, to), 206, s.media1[from:to+1])
		return err
	}
	protected := func(c *http.Client, base string, _ *mrand.Rand) error {
		_, err := getBytes(c, base+"/download/report.pdf?token=letmein", "", 200, s.privPDF)
		return err
	}
	var seed uint64
	next := func() uint64 { seed++; return seed }
	for _, server := range []string{"gunicorn", "asgi"} {
		loop("hello", server, 40*time.Millisecond, next(), hello)
		loop("hello", server, 40*time.Millisecond, next(), hello)
		loop("post", server, 100*time.Millisecond, next(), echo(1<<10, 64<<10))
		loop("upload", server, 2*time.Second, next(), echo(2<<20, 4<<20))
		loop("static", server, 50*time.Millisecond, next(), static)
		loop("media", server, 100*time.Millisecond, next(), media)
		loop("protected", server, 200*time.Millisecond, next(), protected)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", s.uport)
	for i := range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); s.websocket(addr, i, stop) }()
	}
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); s.eventStream(addr, stop) }()
	}
	return func() int {
		close(stop)
		wg.Wait()
		return 0
	}
}

// websocket keeps a websocket to uvicorn's /ws/echo/ open and echoing (4
// messages a second); a closed one is recorded and opened again.
func (s *soak) websocket(addr string, id int, stop chan struct{}) {
	n := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		open0 := time.Now()
		ws, err := testkit.DialWebsocket(addr, "/ws/echo/", 30*time.Second)
		if err != nil {
			s.rec.request("ws-open", "asgi", open0, err)
			time.Sleep(time.Second)
			continue
		}
		s.rec.request("ws-open", "asgi", open0, nil)
		s.rec.wsOpened.Add(1)
		open1 := time.Now()
		for {
			select {
			case <-stop:
				ws.Close()
				return
			case <-time.After(250 * time.Millisecond):
			}
			n++
			if err := ws.Echo(fmt.Sprintf("soak %d %d", id, n), 20*time.Second); err != nil {
				s.rec.streamEnded(streamEnd{kind: "websocket", open0: open0, open1: open1, end: time.Now(), err: err.Error()})
				ws.Close()
				break
			}
			s.rec.wsMsgs.Add(1)
		}
	}
}

// eventStream reads uvicorn's /events/ stream (3 events a second apart, then
// its end) again and again; a stream cut short is recorded.
func (s *soak) eventStream(addr string, stop chan struct{}) {
	c := newClient()
	defer c.CloseIdleConnections()
	const want = "data: 0\n\ndata: 1\n\ndata: 2\n\n"
	for {
		select {
		case <-stop:
			return
		default:
		}
		open0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/events/", nil)
		resp, err := c.Do(req)
		if err != nil {
			cancel()
			s.rec.request("sse-open", "asgi", open0, err)
			time.Sleep(time.Second)
			continue
		}
		if resp.StatusCode != 200 {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			cancel()
			s.rec.request("sse-open", "asgi", open0, wantStatus(resp, body, 200))
			time.Sleep(time.Second)
			continue
		}
		s.rec.request("sse-open", "asgi", open0, nil)
		open1 := time.Now()
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		switch {
		case err == nil && string(body) == want:
			s.rec.sseDone.Add(1)
		case err == nil:
			s.rec.streamEnded(streamEnd{kind: "event stream", open0: open0, open1: open1, end: time.Now(), err: fmt.Sprintf("ended after %q", body)})
		default:
			s.rec.streamEnded(streamEnd{kind: "event stream", open0: open0, open1: open1, end: time.Now(), err: fmt.Sprintf("after %q: %v", body, err)})
		}
	}
}
