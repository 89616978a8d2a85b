// Package caddydjango runs a Django project from one Caddy binary: the
// `django` app supervises its app servers (Gunicorn, uvicorn, hypercorn,
// daphne, uWSGI) and background workers inside Caddy's lifecycle, and the
// `django_files` handler serves static files, media and protected
// downloads and proxies everything else to an app server.
package caddydjango

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/caddy-django/caddy-django/internal/clusterlock"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(new(App))
}

// App is the `django` app: it supervises a Django project's processes
// (app servers and background workers) for as long as Caddy runs.
//
// Processes survive config reloads: a process whose definition did not change
// keeps running (same PID), a changed one is replaced (an app server
// gracefully: the new one serves before the old one stops) and a removed one
// is stopped. An app server's listening socket is held by Caddy and passed
// to it, so connections wait in the kernel's backlog while it restarts
// instead of being refused.
type App struct {
	// Root is the working directory of every process and the base of the
	// default static and media roots. Default: Caddy's working directory.
	Root string `json:"root,omitempty"`

	// Env is added to the environment each process inherits from Caddy.
	// Values may use Caddy placeholders such as {env.HOME}.
	Env map[string]string `json:"env,omitempty"`

	// EnvFile is a dotenv file (KEY=VALUE lines, # comments, optional
	// single or double quotes, optional `export `) read when the config is
	// loaded; relative to Root. Its values override Env.
	EnvFile string `json:"env_file,omitempty"`

	// Release lists commands that run in order, in Root, before the app
	// servers start: at boot, on a reload that changes an app server entry,
	// and on a deploy (`POST /django/reload`). A failing command stops the
	// deploy; the running app servers keep serving. Each is an argument vector or an
	// object with options (user, env, dir, timeout): see ReleaseCommand.
	Release []ReleaseCommand `json:"release,omitempty"`

	// ReleaseTimeout bounds each release command. Default: 10m.
	ReleaseTimeout caddy.Duration `json:"release_timeout,omitempty"`

	// Gunicorn is the `gunicorn` entry: the first app server, named
	// gunicorn (kept for configs written before app_servers; an entry of
	// app_servers with "server": "gunicorn" is the same). Its listening
	// socket is held by Caddy.
	Gunicorn *GunicornConfig `json:"gunicorn,omitempty"`

	// AppServers are app servers (gunicorn, uvicorn, hypercorn, daphne,
	// uwsgi), after Gunicorn. Each has its own listening socket, held by
	// Caddy; names and binds must be unique.
	AppServers []*AppServerConfig `json:"app_servers,omitempty"`

	// Processes are the other supervised programs, e.g. a task worker.
	Processes []*ProcessConfig `json:"processes,omitempty"`

	// Schedules are commands run on a cron schedule (schedule.go).
	Schedules []*ScheduleConfig `json:"schedules,omitempty"`

	// Drain is how long Caddy keeps serving, with the health endpoint
	// and `caddy django status --check` answering "draining" (503, exit
	// 1), when it is told to stop (SIGTERM, SIGINT, `caddy stop`, POST
	// /stop), before its graceful stop: the time a load balancer needs to
	// take it out of its pool. A second SIGTERM or SIGINT ends it early;
	// config reloads never drain. Default: 5s while something checks
	// health (the health endpoint or `status --check` answered within the
	// last minute), else 0 (drain.go).
	Drain *caddy.Duration `json:"drain,omitempty"`

	// Lock is a lock shared by the containers of a deployment, so that
	// the release commands run in one container at a time and schedules
	// with `once` run once across them: a PostgreSQL URL
	// (postgres://USER:PASSWORD@HOST:PORT/DATABASE, e.g.
	// {env.DATABASE_URL}: session advisory locks, and a table
	// caddy_django_schedule_runs for the scheduled times run), or
	// file:<dir>, a directory on a volume every container mounts (flock).
	// See clusterlock.go.
	Lock string `json:"lock,omitempty"`

	// EnvFromFiles, when set, loads secrets from files: each environment
	// variable NAME_FILE sets NAME to the file's content (see
	// EnvFromFiles). Default: off.
	EnvFromFiles *EnvFromFiles `json:"env_from_files,omitempty"`

	// Python is the interpreter that reads the project's settings for
	// django_files (STATIC_URL, STATIC_ROOT, MEDIA_URL, MEDIA_ROOT, the
	// staticfiles storage, WHITENOISE_ROOT) when Caddy starts and on each
	// deploy. Default: the first app server's, when its command is a Python
	// launcher (`python3 -m uvicorn`, or a script such as gunicorn whose
	// `#!` line names Python), else python3 from the app's PATH.
	Python string `json:"python,omitempty"`

	specs     []*spec // resolved definitions, gunicorn first
	releases  []*spec // resolved release commands
	env       []string
	logger    *zap.Logger
	ctx       caddy.Context
	started   []*entry   // registry entries this config holds, in start order
	heldBinds []bindAddr // app server sockets this config holds
	settings  settingsState
	lock      clusterlock.Store // from Lock; nil without
	lockKey   string            // Lock expanded (in once schedules' keys)
	watch     watchState        // watch_restart.go
	mu        sync.Mutex
	stopOnce  sync.Once
}

// CaddyModule returns the Caddy module information.
func (*App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "django",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision resolves the configuration. It starts nothing: `caddy validate`
// provisions apps too.
func (a *App) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	a.logger = ctx.Logger()
	if err := a.provisionRoot(); err != nil {
		return err
	}
	if a.ReleaseTimeout == 0 {
		a.ReleaseTimeout = caddy.Duration(10 * time.Minute)
	}
	if err := a.provisionEnv(); err != nil {
		return err
	}
	if err := a.provisionLock(ctx); err != nil {
		return err
	}
	if err := a.provisionDrain(ctx); err != nil {
		return err
	}
	python, err := expandPlaceholders("python", a.Python)
	if err != nil {
		return err
	}
	a.Python = python
	if err := a.provisionSpecs(); err != nil {
		return err
	}
	if err := a.provisionReleases(); err != nil {
		return err
	}
	if err := a.provisionWatch(); err != nil {
		return err
	}
	return a.provisionMetrics(ctx)
}

// provisionRoot makes Root absolute (default: the working directory).
func (a *App) provisionRoot() error {
	if a.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		a.Root = wd
	}
	root, err := expandPlaceholders("root", a.Root)
	if err != nil {
		return err
	}
	a.Root = root
	if abs, err := filepath.Abs(a.Root); err == nil {
		a.Root = abs
	}
	return nil
}

// provisionEnv builds the environment every process inherits: Caddy's,
// then Env, then the env file's values.
func (a *App) provisionEnv() error {
	env := os.Environ()
	for _, k := range sortedKeys(a.Env) {
		v, err := checkedEnvValue(k, a.Env[k])
		if err != nil {
			return err
		}
		env = setEnv(env, k, v)
	}
	if a.EnvFile != "" {
		path, err := expandPlaceholders("env_file", a.EnvFile)
		if err != nil {
			return err
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(a.Root, path)
		}
		pairs, err := readEnvFile(path)
		if err != nil {
			return fmt.Errorf("env_file: %v", err)
		}
		for _, kv := range pairs {
			env = setEnv(env, kv[0], kv[1])
		}
	}
	env, err := a.envFromFiles(env, nil)
	if err != nil {
		return err
	}
	a.env = env
	return nil
}

// Validate checks the resolved configuration.
func (a *App) Validate() error {
	for _, s := range a.specs {
		if err := s.validate(); err != nil {
			return fmt.Errorf("process %q: %v", s.Name, err)
		}
	}
	return nil
}

// Start starts every process that is not already running with the same
// definition (from the previous config), in priority order. Release commands
// run first when an app server is new. At boot Start does not wait for
// processes; when it replaces a running app server it waits until the new
// one serves, and fails (keeping the old one) if it cannot.
func (a *App) Start() error {
	a.resolveMemoryLimits()
	prev, fresh := a.register()
	if err := a.holdSocket(); err != nil {
		a.abort()
		return err
	}
	go a.discoverSettings(context.Background(), false)
	a.startWatching()
	if len(fresh) == 0 {
		return nil
	}
	freshServer := slices.ContainsFunc(fresh, func(e *entry) bool { s := e.proc().spec; return s.appServer() && !s.Disabled })
	if slices.ContainsFunc(fresh, func(e *entry) bool { return servingAppServer(prev, e.proc().spec) }) {
		// A reload that replaces a serving app server: the new one must
		// serve before Caddy stops the old config (and its app server).
		if err := a.replace(fresh); err != nil {
			a.abort()
			return err
		}
		return nil
	}
	// Boot (or nothing to replace): do not hold up Caddy. Releases run at
	// boot, or for a new app server.
	go a.boot(fresh, len(a.Release) > 0 && (freshServer || prev == nil))
	return nil
}

// holdSocket holds the app servers' listening sockets for as long as this
// config runs (stop releases them).
func (a *App) holdSocket() error {
	for _, s := range a.specs {
		if !s.appServer() || s.Disabled {
			continue
		}
		if _, err := acquireSocket(s.Bind); err != nil {
			return fmt.Errorf("%s (%s): %v", s.Name, s.serverWord(), err)
		}
		a.heldBinds = append(a.heldBinds, s.Bind)
	}
	return nil
}

// servingAppServer reports whether s is a new app server that replaces one
// of a (the previous config, or nil) by the same name that serves or is
// about to.
func servingAppServer(a *App, s *spec) bool {
	if a == nil || !s.appServer() || s.Disabled {
		return false
	}
	e := a.entry(s.Name)
	if e == nil || !e.proc().spec.appServer() {
		return false
	}
	st, _ := e.proc().snapshot()
	return st == StateRunning || st == StateStarting
}

// replace starts fresh entries, among them a new app server that replaces
// a serving one: release commands, then the processes, then it waits until
// the new app servers serve.
func (a *App) replace(fresh []*entry) error {
	rest, err := a.startBeforeRelease(context.Background(), fresh, len(a.Release) > 0)
	if err != nil {
		return err
	}
	if err := a.runReleases(context.Background()); err != nil {
		return err
	}
	startInOrder(rest)
	for _, e := range fresh {
		if p := e.proc(); p.spec.appServer() {
			if err := waitReplacement(context.Background(), p); err != nil {
				return err
			}
		}
	}
	return nil
}

// boot starts fresh entries in the background of a Start that does not
// wait: before_release processes, then (when asked, once those are ready)
// release commands, then the other processes in priority order. A failure
// makes the processes not started yet FATAL.
func (a *App) boot(fresh []*entry, releases bool) {
	rest, err := a.startBeforeRelease(context.Background(), fresh, releases)
	if err == nil && releases {
		if err = a.runReleases(context.Background()); err != nil {
			// nobody waits for boot: the log is where it is seen
			a.logger.Error("boot failed: a release command failed, so no process starts", zap.Error(err))
		}
	}
	if err != nil {
		failAll(rest, err)
		return
	}
	startInOrder(rest)
}

// startInOrder starts entries (sorted by priority): each is launched before
// the next one starts; none waits for another to be RUNNING (supervisord).
func startInOrder(es []*entry) {
	for _, e := range es {
		p := e.proc()
		p.start()
		p.waitLaunched()
	}
}

// newProcess makes a process for s that logs as this config and, when s is
// essential, ends Caddy if it goes FATAL.
func (a *App) newProcess(s *spec) *process {
	p := newProcess(s, a.logger)
	p.onFatal = func(p *process) {
		if p.spec.Essential {
			p.log().Error("essential process is FATAL: Caddy exits so the container is restarted")
			go exitFunc(1)
		}
	}
	return p
}

// exitFunc ends Caddy when an essential process is FATAL. A variable so
// in-process tests can observe it.
var exitFunc = func(code int) {
	if err := caddy.Stop(); err != nil {
		caddy.Log().Error("stopping after an essential process failed", zap.Error(err))
	}
	os.Exit(code)
}

// Stop releases this config's processes. Processes that the next config
// still uses keep running; the others stop, in reverse priority order.
//
// When Caddy quits, the processes are stopped in Cleanup instead: Caddy
// runs it after every app has stopped, the HTTP server included, which
// first finishes its in-flight requests; the app servers must serve those (and
// the connections waiting in its socket's backlog) before it is told to go.
func (a *App) Stop() error {
	a.stopWatching() // no restart once Caddy quits or a newer config runs
	if caddy.Exiting() {
		return nil
	}
	a.stopOnce.Do(a.stop)
	return nil
}

// Cleanup stops this config's processes if Stop left them running (Caddy is
// quitting, or the config never started: then there is nothing to stop).
func (a *App) Cleanup() error {
	a.stopOnce.Do(a.stop)
	return nil
}

// abort undoes a failed Start.
func (a *App) abort() { a.stopOnce.Do(a.stop) }

// stop releases this config's entries and socket; entries no other config
// uses are stopped (see stopByPriority).
func (a *App) stop() {
	a.stopWatching()
	stopByPriority(a.unregister())
	for _, b := range a.heldBinds {
		releaseSocket(b)
	}
}

// stopByPriority stops entries, groups of equal priority in parallel,
// highest priority first.
func stopByPriority(last []*entry) {
	slices.SortStableFunc(last, func(x, y *entry) int { return y.proc().spec.Priority - x.proc().spec.Priority })
	for i := 0; i < len(last); {
		j := i
		for j < len(last) && last[j].proc().spec.Priority == last[i].proc().spec.Priority {
			j++
		}
		var wg sync.WaitGroup
		for _, e := range last[i:j] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.ops.Lock()
				defer e.ops.Unlock()
				e.proc().stop()
			}()
		}
		wg.Wait()
		i = j
	}
}

// AppServerUpstream returns the address Caddy's reverse_proxy dials to
// reach the named app server (the first one for ""), or "" when there is
// no such app server.
func (a *App) AppServerUpstream(name string) string {
	if a == nil {
		return ""
	}
	s := a.appServerSpec(name)
	if s == nil { // none, or not provisioned
		return ""
	}
	return s.Bind.upstream()
}

// RootDir returns the project root (absolute).
func (a *App) RootDir() string { return a.Root }

// WaitAppServer blocks until the named app server (the first one for
// "") serves this config's bind (RUNNING) or ctx is done. It returns nil at once when there is no app
// server, and an error when ctx ends first or no app server on the bind can
// become RUNNING any more (FATAL, stopped).
//
// Caddy holds the listening socket and every app server on it accepts from
// it, so another config's app server on the same bind serves this config's
// requests too: during a reload the old one serves the new config's
// requests until the new one is ready, and the new one serves what the old
// config's HTTP server still handles (or even accepts, on its old listener)
// while Caddy stops the old config.
func (a *App) WaitAppServer(ctx context.Context, name string) error {
	if a == nil || (a.Gunicorn == nil && len(a.AppServers) == 0) {
		return nil
	}
	s := a.appServerSpec(name)
	if s == nil {
		return fmt.Errorf("app server %q is not provisioned", name)
	}
	var tick *time.Ticker
	for {
		// this config's own app server; none yet when Caddy started the new
		// config's HTTP server before its django app (app order is random)
		var p *process
		state, changed, err := "not started", (<-chan struct{})(nil), error(nil)
		if own := a.entry(s.Name); own != nil {
			p = own.proc()
			if state, changed, err = p.readiness(); state == StateRunning {
				return nil
			}
		}
		others := p == nil
		for _, q := range appServersOn(s.Bind) {
			if q == p {
				continue
			}
			st, _, qerr := q.readiness()
			if st == StateRunning {
				return nil
			}
			if qerr == nil && st != StateStopping {
				others = true // may serve soon
			}
		}
		if err != nil && !others {
			return err
		}
		var poll <-chan time.Time
		if others { // their changes have no channel of ours: poll
			if tick == nil {
				tick = time.NewTicker(25 * time.Millisecond)
				defer tick.Stop()
			}
			poll = tick.C
		}
		select {
		case <-changed:
		case <-poll:
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("%s is not running yet (%s)", s.Name, state)
			}
			return fmt.Errorf("%w: %w", err, ctx.Err())
		}
	}
}

// appServerRunning reports, without waiting, whether this config's app
// server s is RUNNING: the first thing WaitAppServer checks, and all it
// checks for almost every request.
func (a *App) appServerRunning(s *spec) bool {
	own := a.entry(s.Name)
	if own == nil {
		return false
	}
	state, _ := own.proc().snapshot()
	return state == StateRunning
}

// appServerSpec returns the named app server's spec (the first one for
// ""), or nil.
func (a *App) appServerSpec(name string) *spec {
	for _, s := range a.specs {
		if s.appServer() && (name == "" || s.Name == name) {
			return s
		}
	}
	return nil
}

// Interface guards
var (
	_ caddy.Module          = (*App)(nil)
	_ caddy.App             = (*App)(nil)
	_ caddy.Provisioner     = (*App)(nil)
	_ caddy.Validator       = (*App)(nil)
	_ caddy.CleanerUpper    = (*App)(nil)
	_ caddyfile.Unmarshaler = (*App)(nil) // in caddyfile.go
)
