package caddydjango

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The django_files `health` endpoint: Caddy answers it from the django
// app's process states (the rule of health.go), for any Host, without
// calling Django.

// healthBody is the health endpoint's JSON answer.
type healthBody struct {
	// Status is "ok" (HTTP 200), "unavailable" (HTTP 503) or, from the
	// moment Caddy is told to stop (drain.go), "draining" (HTTP 503).
	Status string `json:"status"`
	// Processes lists each process's name and state.
	Processes []healthProcess `json:"processes"`
	// Problems names what is wrong, e.g. "gunicorn is FATAL".
	Problems []string `json:"problems,omitempty"`
}

type healthProcess struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// provisionHealth checks the health path: it needs the django app, whose
// processes it reports.
func (h *DjangoFiles) provisionHealth(caddy.Context) error {
	if h.Health == "" {
		return nil
	}
	if h.Health[0] != '/' {
		return fmt.Errorf("health: %q is not a URL path (it must start with /)", h.Health)
	}
	if h.app == nil {
		return fmt.Errorf("health %s needs the django app (a global django block) whose processes it reports", h.Health)
	}
	return nil
}

// serveHealth answers the health endpoint: 200 when the health rule holds
// and Caddy is not stopping, 503 otherwise, never cached and left out of
// the access log (checkers call it every few seconds).
func (h *DjangoFiles) serveHealth(w http.ResponseWriter, r *http.Request) error {
	caddyhttp.SetVar(r.Context(), caddyhttp.LogSkipVar, true)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("%s %s: the health endpoint answers GET and HEAD", r.Method, r.URL.Path))
	}
	noteHealthCheck()
	sts := h.app.Statuses()
	ok, problems := healthOf(sts, "")
	body := healthBody{Status: "ok", Processes: []healthProcess{}, Problems: problems}
	for _, s := range sts {
		body.Processes = append(body.Processes, healthProcess{s.Name, s.State})
	}
	code := http.StatusOK
	switch {
	case stopping(r):
		body.Status, code = "draining", http.StatusServiceUnavailable
		body.Problems = append([]string{stoppingProblem}, problems...)
	case !ok:
		body.Status, code = "unavailable", http.StatusServiceUnavailable
	}
	out, err := json.Marshal(body)
	if err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(append(out, '\n'))
	return err
}
