package caddydjango

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"
)

func (h *DjangoFiles) serveProxy(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	h.sanitizeForwarding(r)
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
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), time.Duration(h.WaitTimeout))
		err := h.app.WaitGunicorn(ctx)
		cancel()
		if err != nil {
			if r.Context().Err() != nil {
				return caddyhttp.Error(499, err)
			}
			// FATAL or stopped: at once; still starting: after wait_timeout
			h.logger.Error("gunicorn cannot serve the request; answered 503",
				zap.Duration("waited", time.Since(start).Round(time.Millisecond)), zap.Error(err))
			return writeUnavailable(w)
		}
	}

	err := h.proxy.ServeHTTP(w, r, next)
	if err != nil {
		if herr, ok := errors.AsType[caddyhttp.HandlerError](err); ok && herr.StatusCode == http.StatusBadGateway {
			if _, ok := errors.AsType[reverseproxy.DialError](herr.Err); ok {
				// could not connect for wait_timeout (lb_try_duration)
				w.Header().Set("Retry-After", retryAfterSeconds)
				herr.StatusCode = http.StatusServiceUnavailable
				return herr
			}
		}
	}
	return err
}

// writeUnavailable answers 503 with Retry-After and a short body that says
// only that the application is unavailable: why (a traceback, an internal
// address) is in the log and in `caddy django status`, never in the body.
func writeUnavailable(w http.ResponseWriter) error {
	hdr := w.Header()
	hdr.Set("Retry-After", retryAfterSeconds)
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, err := io.WriteString(w, unavailableBody)
	return err
}

func writeTooLarge(w http.ResponseWriter, limit int64) error {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, err := fmt.Fprintf(w, "413 Request Entity Too Large: the request body is larger than this site's limit of %s (django_files max_body).\n", formatBytes(limit))
	return err
}

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
