package caddydjango

import (
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// X-Request-Start on proxied requests, as Heroku's router and nginx setups
// send it (`t=<microseconds since the epoch>`), so APM agents (New Relic,
// Scout, Sentry, Datadog…) show how long a request queued before Django
// got it: body buffering and waiting for Gunicorn included.

const requestStartHeader = "X-Request-Start"

// setRequestStart sets X-Request-Start to when Caddy received r, unless the
// handler's request_start is off. A value from a trusted proxy is kept: its
// clock started earlier, closer to the client. Any other client's value was
// removed by sanitizeForwarding (even with request_start off), so a client
// cannot make its requests look queued.
func (h *DjangoFiles) setRequestStart(r *http.Request) {
	if h.DisableRequestStart || r.Header.Get(requestStartHeader) != "" {
		return
	}
	start, ok := caddyhttp.GetVar(r.Context(), "start_time").(time.Time)
	if !ok || start.IsZero() {
		start = time.Now()
	}
	r.Header.Set(requestStartHeader, formatRequestStart(start))
}

// formatRequestStart is t as X-Request-Start's `t=<microseconds>`.
func formatRequestStart(t time.Time) string {
	return "t=" + strconv.FormatInt(t.UnixMicro(), 10)
}
