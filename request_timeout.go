package caddydjango

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddy-django/caddy-django/internal/sockpeer"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// Request time-outs (django_files `timeout`, `on_timeout`): the app server
// has `timeout` to begin its answer to a proxied request (its status line
// and headers), counted from when django_files sends it (the body is
// buffered by then, and a wait for a (re)starting app server comes first,
// so an upload still being received never counts). At the deadline the
// client gets a 504 with a short body; the connection to the app server is
// closed; the request is never sent again (reverse_proxy does not retry a
// request whose context was cancelled); the error log names the method, the
// path, the time, the app server and the worker process that holds the
// request (Linux: the process with the other end of django_files'
// connection, internal/sockpeer). An answer that has begun is not cut: it
// cannot become a 504 any more, so it is passed on until it ends, however
// long that takes (an event stream, a websocket, a large export).
//
// With `on_timeout recycle`, that worker is replaced gracefully (recycle.go):
// its master gets a new worker, its other requests finish or meet their own
// deadlines, and then, with faulthandler enabled for the app server
// (PYTHONFAULTHANDLER), its Python stack is written to the log before it
// is killed.

// timeoutBody is the 504's body: nothing about the app, as for the 503.
const timeoutBody = "504 Gateway Timeout: the application did not answer in time.\n"

// provisionTimeout checks timeout and on_timeout (after provisionProxy:
// recycling needs the django app's app server).
func (h *DjangoFiles) provisionTimeout(caddy.Context) error {
	if h.Timeout < 0 {
		return fmt.Errorf("timeout must be positive, got %s", time.Duration(h.Timeout))
	}
	switch h.OnTimeout {
	case "", "log":
	case "recycle":
		if h.Timeout == 0 {
			return fmt.Errorf("on_timeout recycle needs a timeout")
		}
		if h.appServer == nil {
			return fmt.Errorf("on_timeout recycle needs an app server of the django app to recycle (set app, not upstream)")
		}
	default:
		return fmt.Errorf("on_timeout %q: want log or recycle", h.OnTimeout)
	}
	label := h.upstream
	if h.appServer != nil {
		label = h.appServer.Name
	}
	h.timeoutLabel = label
	h.timeouts = requestMetrics.timeouts.WithLabelValues(label)
	return nil
}

// serveUpstream proxies the request, within timeout when one is set.
func (h *DjangoFiles) serveUpstream(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if h.Timeout <= 0 {
		return h.proxy.ServeHTTP(w, r, next)
	}
	return h.serveTimed(w, r, next)
}

// The states of a timed answer: whichever of the answer's beginning and
// the deadline comes first wins.
const (
	answerWaiting int32 = iota
	answerBegun
	answerTimedOut
)

// timedAnswer is one proxied request under a timeout.
type timedAnswer struct {
	state atomic.Int32
	// conn is the connection to the app server (httptrace's GotConn).
	conn atomic.Pointer[net.Conn]
	// fired is closed once the deadline's work is done (the worker looked
	// up, the request cancelled).
	fired chan struct{}
	// holders are the processes holding the other end of conn, looked up
	// at the deadline (holdersErr: why they are not known).
	holders    []int
	holdersErr error
}

// serveTimed proxies the request and answers 504 if the app server has not
// begun its answer within timeout.
func (h *DjangoFiles) serveTimed(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) (err error) {
	start := time.Now()
	a := &timedAnswer{fired: make(chan struct{})}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { c := info.Conn; a.conn.Store(&c) },
	})
	// headers other handlers set before this one: the 504 keeps them, not
	// what an answer that lost the race copied in
	before := w.Header().Clone()
	tw := &timeoutWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, a: a}
	timer := time.AfterFunc(time.Duration(h.Timeout), func() {
		defer close(a.fired)
		if !a.state.CompareAndSwap(answerWaiting, answerTimedOut) {
			return
		}
		// before the connection is closed: then its other end is gone
		a.holders, a.holdersErr = h.holdersOf(a.conn.Load())
		cancel()
	})
	defer func() {
		if !timer.Stop() {
			<-a.fired
		}
		if a.state.Load() != answerTimedOut {
			return
		}
		// an answer that arrived as the deadline passed: reverse_proxy
		// aborts copying its (discarded) body with ErrAbortHandler
		if rec := recover(); rec != nil && rec != http.ErrAbortHandler {
			panic(rec)
		}
		err = h.answerTimeout(tw, before, r, a, time.Since(start))
	}()
	return h.proxy.ServeHTTP(tw, r.WithContext(ctx), next)
}

// errNotConnected: the deadline came before a connection to the app
// server was made.
var errNotConnected = errors.New("no connection to the app server yet")

// holdersOf returns the processes of the app server holding the other end
// of the connection c (nil: none yet).
func (h *DjangoFiles) holdersOf(c *net.Conn) ([]int, error) {
	if c == nil {
		return nil, errNotConnected
	}
	var pids []int // every process, without the django app
	if h.appServer != nil {
		pids = []int{}
		t := readProcTable()
		for _, p := range appServersOn(h.appServer.Bind) {
			if l := p.leaderPID(); l > 0 {
				pids = append(pids, t.groupMembersOf(l)...)
			}
		}
	}
	return sockpeer.Holders(*c, pids)
}

// answerTimeout answers 504, logs the time-out and, with on_timeout
// recycle, recycles the worker that holds the request.
func (h *DjangoFiles) answerTimeout(w *timeoutWriter, before http.Header, r *http.Request, a *timedAnswer, took time.Duration) error {
	h.timeouts.Inc()
	timeout := time.Duration(h.Timeout)
	worker := 0
	if len(a.holders) > 0 {
		worker = a.holders[0]
	}
	fields := []zap.Field{
		zap.String("method", r.Method), zap.String("path", r.URL.Path),
		zap.Duration("took", took.Round(time.Millisecond)), zap.Duration("timeout", timeout),
		zap.String("app_server", h.timeoutLabel), zap.String("on_timeout", cmp.Or(h.OnTimeout, "log")),
	}
	switch {
	case worker > 0:
		fields = append(fields, zap.Int("worker_pid", worker))
	case a.holdersErr != nil:
		fields = append(fields, zap.String("worker", "unknown: "+a.holdersErr.Error()))
	default:
		fields = append(fields, zap.String("worker", "none: no worker had accepted it yet (all busy)"))
	}
	h.logger.Error("request timed out: the app server did not begin its answer in time; answered 504", fields...)
	if h.OnTimeout == "recycle" && (worker > 0 || (a.holdersErr != nil && a.holdersErr != errNotConnected)) {
		go h.app.recycleStuck(h.appServer, worker, timeout)
	}
	return w.writeTimeout(before)
}

// timeoutWriter passes an answer on once it begins (its status, its first
// byte), unless the deadline came first: then it discards it, and the
// handler writes the 504.
type timeoutWriter struct {
	*caddyhttp.ResponseWriterWrapper
	a  *timedAnswer
	mu sync.Mutex // an informational answer (1xx) and the 504
}

// begin reports whether the answer may be written: it has begun, or
// begins now (the deadline has not passed).
func (w *timeoutWriter) begin() bool {
	return w.a.state.CompareAndSwap(answerWaiting, answerBegun) || w.a.state.Load() == answerBegun
}

func (w *timeoutWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// informational: a final answer (or the 504) still follows
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.a.state.Load() != answerTimedOut {
			w.ResponseWriterWrapper.WriteHeader(code)
		}
		return
	}
	if w.begin() {
		w.ResponseWriterWrapper.WriteHeader(code)
	}
}

func (w *timeoutWriter) Write(b []byte) (int, error) {
	if w.begin() {
		return w.ResponseWriterWrapper.Write(b)
	}
	return len(b), nil
}

// ReadFrom implements io.ReaderFrom (file bodies, X-Accel-Redirect).
func (w *timeoutWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.begin() {
		return w.ResponseWriterWrapper.ReadFrom(r)
	}
	return io.Copy(io.Discard, r)
}

// FlushError is what http.ResponseController's Flush calls: a flush
// begins the answer.
func (w *timeoutWriter) FlushError() error {
	if w.begin() {
		return http.NewResponseController(w.ResponseWriterWrapper.ResponseWriter).Flush()
	}
	return nil
}

// Hijack is what http.ResponseController's Hijack calls (a websocket
// after its 101).
func (w *timeoutWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.begin() {
		return http.NewResponseController(w.ResponseWriterWrapper.ResponseWriter).Hijack()
	}
	return nil, nil, errors.New("the request timed out")
}

// writeTimeout writes the 504, with the headers other handlers had set
// before the proxy.
func (w *timeoutWriter) writeTimeout(before http.Header) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	hdr := w.ResponseWriterWrapper.Header()
	clear(hdr)
	maps.Copy(hdr, before)
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Del("Content-Length")
	w.ResponseWriterWrapper.WriteHeader(http.StatusGatewayTimeout)
	_, err := io.WriteString(w.ResponseWriterWrapper, timeoutBody)
	return err
}

// Interface guards
var (
	_ http.ResponseWriter = (*timeoutWriter)(nil)
	_ http.Hijacker       = (*timeoutWriter)(nil)
	_ io.ReaderFrom       = (*timeoutWriter)(nil)
)
