package caddydjango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI serves the django app's admin endpoints under /django/ on Caddy's
// admin API (localhost:2019 by default; never expose it publicly):
//
//	GET  /django/processes                      status of every process
//	GET  /django/processes/NAME                 status of one process (or group)
//	POST /django/processes/NAME/restart         graceful; zero-downtime for app servers
//	POST /django/processes/NAME/stop
//	POST /django/processes/NAME/start
//	POST /django/processes/NAME/signal/SIGNAL   e.g. signal/HUP, signal/TTIN: HUP, TTIN, TTOU,
//	                                            USR1, USR2, WINCH to the process itself, others
//	                                            (TERM, INT, QUIT, KILL...) to its process group
//	POST /django/reload                         deploy: release commands, new app servers, restart workers
//	GET  /django/files                          the project's settings as read, and the static and
//	                                            media paths each django_files serves (and from where)
//	GET  /django/exec-env                       root, environment (values included) and user for
//	                                            `caddy django exec`
//	GET  /django/cluster                        the drain on stop and the cluster lock (?check: asked
//	                                            by `status --check`, a health check)
//
// The answers to restart, stop and reload set "killed" on each process the
// action had to SIGKILL after its stop_timeout (stop_report.go).
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.django",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes returns the admin routes.
func (adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/django/", Handler: caddy.AdminHandlerFunc(serveAdmin)},
	}
}

func serveAdmin(w http.ResponseWriter, r *http.Request) error {
	app := currentApp()
	if app == nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: errors.New("the django app is not configured")}
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/django/"), "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "processes":
		if r.Method != http.MethodGet {
			return methodNotAllowed(http.MethodGet)
		}
		return writeJSON(w, app.Statuses())
	case len(parts) == 1 && parts[0] == "files":
		if r.Method != http.MethodGet {
			return methodNotAllowed(http.MethodGet)
		}
		return writeJSON(w, app.FilesStatus())
	case len(parts) == 1 && parts[0] == "cluster":
		if r.Method != http.MethodGet {
			return methodNotAllowed(http.MethodGet)
		}
		if r.URL.Query().Has("check") {
			noteHealthCheck()
		}
		return writeJSON(w, app.clusterStatus())
	case len(parts) == 1 && parts[0] == "exec-env":
		if r.Method != http.MethodGet {
			return methodNotAllowed(http.MethodGet)
		}
		return writeJSON(w, app.execEnv())
	case len(parts) == 1 && parts[0] == "reload":
		if r.Method != http.MethodPost {
			return methodNotAllowed(http.MethodPost)
		}
		since := time.Now()
		if err := app.Deploy(r.Context()); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		return writeJSON(w, markKilled(app.Statuses(), since))
	case len(parts) >= 2 && parts[0] == "processes":
		name := parts[1]
		if len(app.matching(name)) == 0 {
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no process named %q", name)}
		}
		if len(parts) == 2 {
			if r.Method != http.MethodGet {
				return methodNotAllowed(http.MethodGet)
			}
			return writeJSON(w, app.StatusesOf(name))
		}
		if r.Method != http.MethodPost {
			return methodNotAllowed(http.MethodPost)
		}
		var err error
		since := time.Now()
		switch action := parts[2]; {
		case action == "restart" && len(parts) == 3:
			err = app.Restart(r.Context(), name)
		case action == "stop" && len(parts) == 3:
			err = app.StopProcess(name)
		case action == "start" && len(parts) == 3:
			err = app.StartProcess(name)
		case action == "signal" && len(parts) == 4:
			if _, perr := parseSignal(parts[3]); perr != nil {
				return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: perr}
			}
			err = app.Signal(name, parts[3])
		default:
			return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("unknown action %q (want restart, stop, start or signal/SIGNAL)", strings.Join(parts[2:], "/"))}
		}
		if err != nil {
			status := http.StatusInternalServerError
			if errors.As(err, new(notRunningError)) || errors.As(err, new(conflictError)) {
				status = http.StatusConflict
			}
			return caddy.APIError{HTTPStatus: status, Err: err}
		}
		return writeJSON(w, markKilled(app.StatusesOf(name), since))
	}
	return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("unknown django endpoint %s", r.URL.Path)}
}

func methodNotAllowed(want string) error {
	return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed; use %s", want)}
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Interface guards
var (
	_ caddy.Module      = (*adminAPI)(nil)
	_ caddy.AdminRouter = (*adminAPI)(nil)
)
