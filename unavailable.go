package caddydjango

import (
	"errors"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The answer when the app server cannot serve a request (stopped, FATAL,
// disabled, still starting after wait_timeout, or unreachable): 503 with
// Retry-After and Cache-Control: no-store. On a site with error routes
// (`handle_errors`), it is returned as a Caddy error with status 503, so
// that the site answers it its own way (a maintenance page, a "starting"
// page); without them, django_files writes its short plain-text body, as
// Caddy would otherwise send an empty one.

// errAppUnavailable is the error error routes see (`{err.message}`): it
// says only that the application is unavailable; why is in the log and in
// `caddy django status`.
var errAppUnavailable = errors.New("the application is unavailable right now")

// unavailable answers r with 503: as a Caddy error when the server has
// error routes, else with writeUnavailable's body.
func unavailable(w http.ResponseWriter, r *http.Request) error {
	hdr := w.Header()
	hdr.Set("Retry-After", retryAfterSeconds)
	hdr.Set("Cache-Control", "no-store")
	if !hasErrorRoutes(r) {
		return writeUnavailable(w)
	}
	return caddyhttp.Error(http.StatusServiceUnavailable, errAppUnavailable)
}

// hasErrorRoutes reports whether the server handling r has error routes
// (a `handle_errors` block).
func hasErrorRoutes(r *http.Request) bool {
	srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	return ok && srv != nil && srv.Errors != nil && len(srv.Errors.Routes) > 0
}
