package caddydjango

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// ProcessOptions are the supervision options shared by every process. Where
// supervisord has an option of the same name it has the same meaning; the
// defaults differ where supervisord's are a known pain (autorestart, backoff).
type ProcessOptions struct {
	// Autorestart says when an exited process is started again: `always`
	// (default; a worker that exits 0, like django-tasks' `db_worker
	// --max-tasks`, comes back), `unexpected` (only when the exit code is not
	// in ExitCodes) or `never`.
	Autorestart string `json:"autorestart,omitempty"`

	// ExitCodes are the expected exit codes for `autorestart unexpected`.
	// Default: [0].
	ExitCodes []int `json:"exitcodes,omitempty"`

	// StartSecs is how long a process must stay up to count as started
	// (RUNNING). An exit before that is a failed start. Default: 1s. For an
	// app server, RUNNING additionally waits until it serves (an HTTP answer
	// on its generation's own socket, or its startup line).
	StartSecs *caddy.Duration `json:"startsecs,omitempty"`

	// StartRetries is how many failed starts in a row are retried before
	// the process is FATAL and left stopped. Default: 3.
	StartRetries *int `json:"startretries,omitempty"`

	// Backoff is the delay before the first restart after a quick exit; it
	// doubles with each further quick exit up to BackoffMax, so a crash loop
	// never spins the CPU. A process that stays up for 10s (or StartSecs, if
	// longer) is stable: its next restart is immediate. Default: 1s.
	Backoff caddy.Duration `json:"backoff,omitempty"`

	// BackoffMax caps Backoff. Default: 30s.
	BackoffMax caddy.Duration `json:"backoff_max,omitempty"`

	// StopSignal is sent to the process group to stop it: TERM (default),
	// INT, QUIT, HUP, KILL, USR1, USR2, WINCH (with or without `SIG`).
	StopSignal string `json:"stop_signal,omitempty"`

	// StopTimeout is how long a stopping process, and every other process
	// of its process group, may take to exit after the stop signal before
	// the whole group is killed (a launcher that exits at once leaves the
	// app server it started this long to finish its requests). Default:
	// 10s; for an app server, longer than its own graceful timeout: 35s for
	// gunicorn, 30s uvicorn, 10s hypercorn, 15s daphne, 65s uwsgi.
	StopTimeout caddy.Duration `json:"stop_timeout,omitempty"`

	// Priority orders processes: lower starts first and stops last.
	// Default: 999 (as supervisord).
	Priority *int `json:"priority,omitempty"`

	// Replicas runs that many copies, named NAME-1 … NAME-N, each with
	// CADDY_DJANGO_REPLICA=i in its environment: a number, 0 (the entry
	// runs nothing and is listed as DISABLED) or "auto" (one per CPU the
	// container may use, see cpus.go). Default: 1.
	Replicas Count `json:"replicas,omitzero"`

	// Env is added to the app's environment for this process only.
	Env map[string]string `json:"env,omitempty"`

	// Dir is the working directory, relative to the app's root. Default: the
	// app's root.
	Dir string `json:"dir,omitempty"`

	// User runs the process as this user (name or uid; Caddy must run as
	// root). Its primary group is used.
	User string `json:"user,omitempty"`

	// Enabled, when false, keeps the entry from starting: it is listed as
	// DISABLED in status and is not an error. With Caddy's `{$VAR:default}`
	// substitution in the Caddyfile it selects process sets from the
	// environment. Default: true.
	Enabled *bool `json:"enabled,omitempty"`

	// Essential makes Caddy exit with a non-zero status when this process
	// goes FATAL, so that a container orchestrator restarts the container.
	Essential bool `json:"essential,omitempty"`

	// Watch restarts the process when files under the app's root change
	// (development; see WatchConfig): an app server with zero downtime,
	// once its new code imports. Default: not watched.
	Watch *WatchConfig `json:"watch,omitempty"`
	// MaxMemory is the most resident memory (RSS) the process may use
	// before it is recycled: a size (`512MiB`, `1GB`) or a share of the
	// container's memory limit (`80%`: of the cgroup's memory.max, or
	// memory.limit_in_bytes on cgroup v1, read when the config starts;
	// without a limit, of the machine's memory, with a warning). It is
	// checked every 2 seconds (Linux only). An app server with workers
	// (Gunicorn, uWSGI, uvicorn or hypercorn with --workers) is measured per
	// worker (with its children) and its master alone; a worker over the
	// limit is replaced gracefully (Gunicorn and uWSGI: that worker, by its
	// master; the others: a new generation, as a restart does), and so is
	// the whole generation when the master or a one-process server is
	// over. Any other process is measured with its children and restarted
	// gracefully (stop_signal, stop_timeout). Over its limit again right
	// after starting, it is recycled after a backoff that grows as for a
	// crash loop. Default: no limit.
	MaxMemory string `json:"max_memory,omitempty"`
}

// ProcessConfig is a supervised program, for example a background worker.
type ProcessConfig struct {
	// Name identifies the process in logs (logger `django.NAME`), in status
	// and in the admin API. Letters, digits, `-` and `_`.
	Name string `json:"name"`

	// Command is the program and its arguments. A program without a slash
	// is looked up in PATH.
	Command []string `json:"command"`

	// BeforeRelease starts this process before the release commands, which
	// wait until it is RUNNING (past startsecs and its Ready check),
	// at most release_timeout: e.g. a database run in the container. If it
	// does not get ready, the boot fails as with a failing release command.
	BeforeRelease bool `json:"before_release,omitempty"`

	// Ready is a check that must pass, after startsecs, before the process
	// counts as RUNNING: `tcp HOST:PORT` or `unix PATH` (a connection is
	// accepted) or `http URL` (an answer below 500). It is retried for up
	// to 60s; then the start counts as failed.
	Ready string `json:"ready,omitempty"`

	ProcessOptions
}

// AppServerConfig is a Python app server (gunicorn, uvicorn, hypercorn,
// daphne, uwsgi): Caddy creates the listening socket and passes it to the
// server (e.g. Gunicorn's `--bind fd://3`), so it survives restarts; it is RUNNING once
// it serves (see appserver.go for how each server is started).
type AppServerConfig struct {
	// Server is the kind of app server: gunicorn (default), uvicorn,
	// hypercorn, daphne or uwsgi.
	Server string `json:"server,omitempty"`

	// Name identifies the app server in status, the admin API and
	// `django_files { app NAME }`. Default: the server's word (gunicorn,
	// uvicorn, …). Letters, digits, `-` and `_`.
	Name string `json:"name,omitempty"`

	// App is the application, e.g. `config.wsgi:application` (gunicorn,
	// uwsgi) or `config.asgi:application` (uvicorn, hypercorn, daphne, or
	// gunicorn with uvicorn's worker class).
	App string `json:"app"`

	// Command is the launcher. Default: ["gunicorn"], ["/usr/bin/python3",
	// "-m", "uvicorn"], ["hypercorn"], ["daphne"] or ["uwsgi", "--plugin",
	// "python3"]. Example: ["uv", "run", "--no-sync", "gunicorn"].
	Command []string `json:"command,omitempty"`

	// Bind is where the server listens: HOST:PORT or unix:PATH. Default:
	// 127.0.0.1:8000. Binds must be unique.
	Bind string `json:"bind,omitempty"`

	// Workers is the server's --workers: a number, or "auto" for the CPUs
	// the container may use (cpus.go): 2 × CPUs + 1 for gunicorn (its own
	// advice), one per CPU for uvicorn, hypercorn and uwsgi. Default: the
	// server's own.
	Workers Count `json:"workers,omitzero"`

	// Args are extra server arguments, e.g. ["--timeout", "60"]. Flags that
	// choose a socket (`--bind`, `--fd`, …) are not allowed (use Bind).
	Args []string `json:"args,omitempty"`

	// ReadyPath, when set, is requested (GET, Host: localhost) to tell when
	// the server serves; any HTTP answer counts. By default Gunicorn and
	// hypercorn get a request line they reject by themselves (400) once a
	// worker runs, so Django sees nothing; uvicorn is ready when it logs
	// "Application startup complete.".
	ReadyPath string `json:"ready_path,omitempty"`

	// ReadyTimeout bounds how long the server may take to get ready before
	// the start counts as failed. Default: 60s.
	ReadyTimeout caddy.Duration `json:"ready_timeout,omitempty"`

	ProcessOptions
}

// GunicornConfig is the `gunicorn` entry: an AppServerConfig whose server
// is gunicorn.
type GunicornConfig = AppServerConfig

const (
	gunicornName       = "gunicorn"
	defaultPriority    = 999
	defaultBind        = "127.0.0.1:8000"
	stableRunMinimum   = 10 * time.Second
	gunicornStopWait   = 35 * time.Second
	defaultStopWait    = 10 * time.Second
	defaultReadyWait   = 60 * time.Second
	defaultBackoff     = time.Second
	defaultBackoffMax  = 30 * time.Second
	defaultStartSecs   = time.Second
	defaultStartTries  = 3
	killWait           = 5 * time.Second       // for a SIGKILLed group to be gone
	groupPollInterval  = 50 * time.Millisecond // while waiting for a group to be gone
	maxLogLineBytes    = 1 << 20
	releaseOutputBytes = 4096
)

// resolve turns options into a spec for one replica.
func (o *ProcessOptions) resolve(a *App, name, group string, argv []string, replica int) (*spec, error) {
	if o.Backoff < 0 || o.BackoffMax < 0 || o.StopTimeout < 0 || (o.StartSecs != nil && *o.StartSecs < 0) {
		return nil, fmt.Errorf("durations must not be negative")
	}
	if o.StopSignal != "" {
		if _, err := parseSignal(o.StopSignal); err != nil {
			return nil, err
		}
	}
	maxMemory, err := parseMaxMemory(o.MaxMemory)
	if err != nil {
		return nil, err
	}
	s := &spec{
		Name:        name,
		Group:       group,
		Argv:        argv,
		Autorestart: o.Autorestart,
		ExitCodes:   o.ExitCodes,
		StartSecs:   defaultStartSecs,
		Retries:     defaultStartTries,
		Backoff:     time.Duration(o.Backoff),
		BackoffMax:  time.Duration(o.BackoffMax),
		StopSignal:  strings.ToUpper(strings.TrimPrefix(strings.ToUpper(o.StopSignal), "SIG")),
		StopTimeout: time.Duration(o.StopTimeout),
		Priority:    defaultPriority,
		Essential:   o.Essential,
		User:        o.User,
		Disabled:    o.Enabled != nil && !*o.Enabled,
		MaxMemory:   strings.TrimSpace(o.MaxMemory),
		maxMemory:   maxMemory,
	}
	if s.Autorestart == "" {
		s.Autorestart = "always"
	}
	if len(s.ExitCodes) == 0 {
		s.ExitCodes = []int{0}
	}
	if o.StartSecs != nil {
		s.StartSecs = time.Duration(*o.StartSecs)
	}
	if o.StartRetries != nil {
		s.Retries = *o.StartRetries
	}
	if s.Backoff <= 0 {
		s.Backoff = defaultBackoff
	}
	if s.BackoffMax <= 0 {
		s.BackoffMax = defaultBackoffMax
	}
	if s.BackoffMax < s.Backoff {
		s.BackoffMax = s.Backoff
	}
	if s.StopSignal == "" {
		s.StopSignal = "TERM"
	}
	if s.StopTimeout <= 0 {
		s.StopTimeout = defaultStopWait
	}
	if o.Priority != nil {
		s.Priority = *o.Priority
	}

	env := slices.Clone(a.env)
	for _, k := range sortedKeys(o.Env) {
		v, err := checkedEnvValue(k, o.Env[k])
		if err != nil {
			return nil, err
		}
		env = setEnv(env, k, v)
	}
	if len(o.Env) > 0 {
		var err error
		if env, err = a.envFromFiles(env, o.Env); err != nil {
			return nil, err
		}
	}
	if replica > 0 {
		env = setEnv(env, "CADDY_DJANGO_REPLICA", strconv.Itoa(replica))
	}
	s.Env = env

	s.Dir = a.Root
	if o.Dir != "" {
		d, err := expandPlaceholders("dir", o.Dir)
		if err != nil {
			return nil, err
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(a.Root, d)
		}
		s.Dir = d
	}
	return s, nil
}

// specs expands a process into one spec per replica.
func (p *ProcessConfig) specs(a *App) ([]*spec, error) {
	if len(p.Command) == 0 {
		return nil, fmt.Errorf("missing command")
	}
	n, cpus := 1, (*cpuCount)(nil) // unset: one copy
	if p.Replicas.set {
		n, cpus = resolveCount(p.Replicas, oneEach)
	}
	if n < 0 {
		return nil, fmt.Errorf("replicas must not be negative")
	}
	if cpus != nil {
		a.logAuto(p.Name, "replicas", n, cpus)
	}
	var out []*spec
	for i := 1; i <= max(n, 1); i++ {
		name, replica := p.Name, 0 // one copy keeps the plain name
		if n > 1 {
			name, replica = fmt.Sprintf("%s-%d", p.Name, i), i
		}
		s, err := p.resolve(a, name, p.Name, p.Command, replica)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			s.Disabled = true // replicas 0: listed, never run
		}
		if p.Ready != "" {
			kind, target, _ := strings.Cut(p.Ready, " ")
			if err := parseReady(kind, target); err != nil {
				return nil, err
			}
			s.Ready, s.ReadyTimeout = p.Ready, defaultReadyWait
		}
		s.BeforeRelease = p.BeforeRelease
		s.computeKey()
		out = append(out, s)
	}
	return out, nil
}

// spec resolves an app server entry. fd 3 is the socket Caddy holds, fd 4
// (for servers that take two) the generation's own socket, where
// django_files sends requests and readiness is probed (appserver_switch.go).
func (g *AppServerConfig) spec(a *App) (*spec, error) {
	kind, err := kindOf(g.Server)
	if err != nil {
		return nil, err
	}
	if g.App == "" && kind.word == gunicornName {
		return nil, fmt.Errorf("missing WSGI application (e.g. config.wsgi:application)")
	}
	if g.App == "" {
		return nil, fmt.Errorf("missing application (e.g. config.asgi:application)")
	}
	if g.Replicas.set && g.Replicas != countOf(1) {
		return nil, fmt.Errorf("%s", replicasUnsupported(kind.word))
	}
	workers, err := g.workerCount(a, kind)
	if err != nil {
		return nil, err
	}
	bind, err := parseBind(g.Bind)
	if err != nil {
		return nil, err
	}
	if kind.tcpOnly && bind.network == "unix" {
		return nil, kind.unixBindError(g.Bind)
	}
	argv, err := kind.argv(g, workers, bind)
	if err != nil {
		return nil, err
	}
	opts := g.ProcessOptions
	if opts.StopTimeout == 0 {
		opts.StopTimeout = caddy.Duration(kind.stopTimeout)
	}
	if opts.StopSignal == "" {
		opts.StopSignal = kind.stopSignal
	}
	name := g.serverName()
	s, err := opts.resolve(a, name, name, argv, 0)
	if err != nil {
		return nil, err
	}
	if kind.word != gunicornName {
		s.Server = kind.word // gunicorn's key stays what it was
	}
	s.Bind = bind.resolve(a.Root)
	s.launcher = g.Command
	if len(s.launcher) == 0 {
		s.launcher = kind.command
	}
	s.app = g.App
	s.ProbeFD = kind.probeFD
	s.OwnFD = kind.probeFD || kind.ownFD
	s.StopMaster = kind.stopMaster
	s.ReadyPath = g.ReadyPath
	if !kind.probeFD {
		s.ReadyLine = kind.readyLine
	}
	s.ReadyTimeout = time.Duration(g.ReadyTimeout)
	if s.ReadyTimeout <= 0 {
		s.ReadyTimeout = defaultReadyWait
	}
	if g.Watch != nil {
		s.WatchApp = watchedApp(g.App)
	}
	s.computeKey()
	return s, nil
}

// serverName is the entry's name: Name, or the server's word.
func (g *AppServerConfig) serverName() string {
	switch {
	case g.Name != "":
		return g.Name
	case g.Server != "":
		return g.Server
	}
	return gunicornName
}

// appServerConfigs returns the app server entries: `gunicorn`, then
// `app_servers`.
func (a *App) appServerConfigs() []*AppServerConfig {
	var out []*AppServerConfig
	if a.Gunicorn != nil {
		g := *a.Gunicorn
		g.Server, g.Name = gunicornName, gunicornName
		out = append(out, &g)
	}
	return append(out, a.AppServers...)
}

// provisionAppServers resolves the app server entries (names into seen).
func (a *App) provisionAppServers(seen map[string]bool) error {
	binds := map[bindAddr]string{}
	for i, c := range a.appServerConfigs() {
		if c == nil {
			return fmt.Errorf("app_servers[%d]: empty", i)
		}
		name := c.serverName()
		if !processNameRE.MatchString(name) || name == "release" {
			return fmt.Errorf("app server name %q: use letters, digits, '-' and '_'", name)
		}
		if seen[name] {
			return fmt.Errorf("app server %q is defined twice; names must be unique", name)
		}
		s, err := c.spec(a)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if other, ok := binds[s.Bind]; ok {
			return fmt.Errorf("%s: bind %s is already used by %s; binds must be unique", name, s.Bind.upstream(), other)
		}
		seen[name], binds[s.Bind] = true, name
		a.specs = append(a.specs, s)
	}
	return nil
}

// processNameRE restricts names to what reads well in a logger name and a URL.
var processNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// provisionSpecs resolves the app's processes into specs, app servers
// first, and checks that their names (and the app servers' binds) are
// unique.
func (a *App) provisionSpecs() error {
	seen := map[string]bool{}
	if err := a.provisionAppServers(seen); err != nil {
		return err
	}
	for i, p := range a.Processes {
		if p == nil {
			return fmt.Errorf("processes[%d]: empty", i)
		}
		if p.Name == "release" || p.Name == gunicornName {
			return fmt.Errorf("processes[%d]: name %q is reserved", i, p.Name)
		}
		if !processNameRE.MatchString(p.Name) {
			return fmt.Errorf("processes[%d]: name %q: use letters, digits, '-' and '_'", i, p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("process %q is defined twice; names must be unique", p.Name)
		}
		specs, err := p.specs(a)
		if err != nil {
			return fmt.Errorf("process %q: %v", p.Name, err)
		}
		for _, s := range specs {
			if seen[s.Name] {
				return fmt.Errorf("process %q is defined twice; names must be unique", s.Name)
			}
			seen[s.Name] = true
		}
		a.specs = append(a.specs, specs...)
	}
	return a.provisionSchedules(seen)
}
