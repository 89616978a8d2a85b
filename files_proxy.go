package caddydjango

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"
)

// provisionLimits checks and defaults max_body, request_buffer,
// wait_timeout and buffer_dir.
func (h *DjangoFiles) provisionLimits(caddy.Context) error {
	if h.MaxBody == 0 {
		h.MaxBody = defaultMaxBody
	}
	if h.MaxBody < -1 {
		return fmt.Errorf("max_body must be positive (or -1: unlimited), got %d", h.MaxBody)
	}
	if h.RequestBuffer == 0 {
		h.RequestBuffer = defaultRequestBuffer
	}
	if h.RequestBuffer < -1 {
		return fmt.Errorf("request_buffer must be positive (or -1: off), got %d", h.RequestBuffer)
	}
	if h.WaitTimeout == 0 {
		h.WaitTimeout = caddy.Duration(defaultWaitTimeout)
	}
	if h.WaitTimeout < 0 {
		return fmt.Errorf("wait_timeout must be positive, got %s", time.Duration(h.WaitTimeout))
	}
	if h.BufferDir != "" {
		var err error
		if h.BufferDir, err = expandPlaceholders("buffer_dir", h.BufferDir); err != nil {
			return err
		}
	}
	return nil
}

// provisionProxy sets up reverse_proxy to the upstream (by default the
// django app's first app server, or the one `app` names), with the
// protected-file routes.
func (h *DjangoFiles) provisionProxy(ctx caddy.Context) error {
	upstream, err := expandPlaceholders("upstream", h.Upstream)
	if err != nil {
		return err
	}
	if h.App != "" && upstream != "" {
		return fmt.Errorf("app %q and upstream %q: set one of them", h.App, upstream)
	}
	if upstream == "" && h.app != nil {
		upstream = h.app.AppServerUpstream(h.App)
	}
	if upstream == "" && h.App != "" {
		return fmt.Errorf("app %q: the django app has no app server by that name", h.App)
	}
	if upstream == "" {
		return fmt.Errorf("no upstream: set `upstream` or configure an app server (gunicorn, uvicorn, …) in the django app")
	}
	h.waitApp = h.app != nil && upstream == h.app.AppServerUpstream(h.App)
	if h.waitApp {
		h.appServer = h.app.appServerSpec(h.App)
	}
	h.upstream = upstream
	h.inFlight = inFlightGauge(upstream)

	routes, err := h.protectedRoutes(ctx)
	if err != nil {
		return err
	}
	if h.UpstreamKeepAlive < 0 {
		return fmt.Errorf("upstream_keepalive must not be negative")
	}
	dial := upstream
	if h.switched = h.waitApp && h.app.switchesUpstream(h.App); h.switched {
		dial = "{http.vars." + upstreamVar + "}" // set per request (serveProxy)
	}
	h.proxy = &reverseproxy.Handler{
		TransportRaw:   h.upstreamTransport(),
		Upstreams:      reverseproxy.UpstreamPool{{Dial: dial}},
		TrustedProxies: h.TrustedProxies,
		// upgraded streams survive reloads (reload_streams.go)
		StreamCloseDelay: streamsOutliveReloads,
		LoadBalancing: &reverseproxy.LoadBalancing{
			TryDuration: h.WaitTimeout,
			TryInterval: caddy.Duration(250 * time.Millisecond),
		},
		HandleResponse: routes,
	}
	if err := h.proxy.Provision(ctx); err != nil {
		return fmt.Errorf("provisioning reverse_proxy: %v", err)
	}
	// Retried for wait_timeout: a request that could not be sent (dial
	// errors; reverse_proxy retries those whatever retry_match says). Never
	// a request written to the app server, GET included (reverse_proxy's
	// default retries a GET after a connection closed unanswered): its view
	// may have run (a worker killed for its timeout), side effects and all.
	h.proxy.LoadBalancing.RetryMatch = caddyhttp.MatcherSets{{sentOnce{}}}
	return nil
}

// sentOnce is reverse_proxy's retry_match for django_files: it matches no
// request, so that only a request that never reached the upstream is
// tried again.
type sentOnce struct{}

// MatchWithError implements caddyhttp.RequestMatcherWithError.
func (sentOnce) MatchWithError(*http.Request) (bool, error) { return false, nil }

// upstreamTransport is reverse_proxy's HTTP transport: connections are
// reused when upstream_keepalive is set, or by default for an app server
// that keeps them (daphne).
func (h *DjangoFiles) upstreamTransport() json.RawMessage {
	idle := h.UpstreamKeepAlive
	if idle == 0 && h.appServer != nil {
		if k := serverKinds[h.appServer.serverWord()]; k != nil {
			idle = caddy.Duration(k.upstreamKeepAlive)
		}
	}
	reuse := idle > 0
	transport := &reverseproxy.HTTPTransport{
		KeepAlive: &reverseproxy.KeepAlive{Enabled: &reuse, IdleConnTimeout: idle},
	}
	return caddyconfig.JSONModuleObject(transport, "protocol", "http", nil)
}

// serveProxy sends the request to the upstream once its body is buffered
// and, with the django app, its app server serves.
func (h *DjangoFiles) serveProxy(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	h.sanitizeForwarding(r)
	h.setRequestStart(r)
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		body, err := h.bufferBody(w, r)
		if err != nil {
			if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
				h.logger.Debug("request body too large", zap.Int64("limit", mbe.Limit))
				return writeTooLarge(w, h.MaxBody)
			}
			return caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading request body: %w", err))
		}
		defer body.Close()
	}

	if h.waitApp {
		if answered, err := h.awaitAppServer(w, r); answered {
			return err
		}
	}

	if h.switched {
		addr, lease := leaseAppServer(h.appServer.Bind, h.upstream)
		defer lease.release()
		w = lease.writer(w)
		caddyhttp.SetVar(r.Context(), upstreamVar, addr)
	}
	h.inFlight.Inc()
	err := h.serveUpstream(w, r, next) // within timeout (request_timeout.go)
	h.inFlight.Dec()
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		// a streamed body (request_buffer off) grew past max_body
		h.logger.Debug("request body too large", zap.Int64("limit", mbe.Limit))
		return writeTooLarge(w, h.MaxBody)
	}
	if err != nil {
		if herr, ok := errors.AsType[caddyhttp.HandlerError](err); ok && herr.StatusCode == http.StatusBadGateway {
			if _, ok := errors.AsType[reverseproxy.DialError](herr.Err); ok {
				// could not connect for wait_timeout (lb_try_duration)
				h.logger.Error("app server unreachable; answered 503", zap.String("upstream", h.upstream), zap.Error(herr.Err))
				return unavailable(w, r)
			}
		}
	}
	return err
}

// awaitAppServer holds the request until the app server serves, at most
// wait_timeout. When it cannot serve, it answers (503; 499 when the client
// has gone) and reports that the request is answered.
func (h *DjangoFiles) awaitAppServer(w http.ResponseWriter, r *http.Request) (answered bool, err error) {
	if h.app.appServerRunning(h.appServer) { // the usual case: no timer, nothing to wait for
		waitedNothing()
		return false, nil
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(h.WaitTimeout))
	waited := waitMetrics()
	err = h.app.WaitAppServer(ctx, h.App)
	waited()
	cancel()
	if err == nil {
		return false, nil
	}
	if r.Context().Err() != nil {
		return true, caddyhttp.Error(499, err)
	}
	// FATAL or stopped: at once; still starting: after wait_timeout
	h.logger.Error("app server cannot serve the request; answered 503",
		zap.String("app_server", h.appServerName()), zap.Duration("waited", time.Since(start).Round(time.Millisecond)), zap.Error(err))
	return true, unavailable(w, r)
}

// appServerName names the app server this handler proxies to.
func (h *DjangoFiles) appServerName() string {
	if s := h.app.appServerSpec(h.App); s != nil {
		return s.Name
	}
	return h.App
}

// writeUnavailable answers 503 with Retry-After and a short body that says
// only that the application is unavailable: why (a traceback, an internal
// address) is in the log and in `caddy django status`, never in the body.
// (unavailable.go: on a site with handle_errors, the 503 is theirs.)
func writeUnavailable(w http.ResponseWriter) error {
	hdr := w.Header()
	hdr.Set("Retry-After", retryAfterSeconds)
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, err := io.WriteString(w, unavailableBody)
	return err
}

// writeTooLarge answers 413 with a body that names the limit.
func writeTooLarge(w http.ResponseWriter, limit int64) error {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, err := fmt.Fprintf(w, "413 Request Entity Too Large: the request body is larger than this site's limit of %s (django_files max_body).\n", formatBytes(limit))
	return err
}

// formatBytes writes n in the largest binary unit that divides it.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Interface guards
var _ caddyhttp.RequestMatcherWithError = sentOnce{}
