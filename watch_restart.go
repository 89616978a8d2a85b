package caddydjango

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddy-django/caddy-django/internal/watch"
	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// Development mode's code reloads (`watch` on an app server or a process):
// each config watches the app's root (internal/watch) while it runs, and
// restarts the entries whose files changed. An app server's restart is a
// deploy without the release commands: the new code must import first
// (watch_check.py: the application, the URLconf and its views, with the
// app server's Python), then a new generation starts, and it serves before
// the old one stops. If the new code does not import or the new generation
// does not start, the old one keeps serving, the error is logged with
// where it was raised and shown in status (watch_error), and the next
// change tries again. A process is stopped and started again.

// WatchConfig restarts an app server or a process when files under the
// app's root change: `watch` in the Caddyfile.
type WatchConfig struct {
	// Patterns are glob patterns, relative to the app's root with `/`
	// separators, of the files whose changes restart the entry: `*`, `?`,
	// `[…]`, `{a,b}`, and `**` for any number of directories. Default:
	// `**/*.py` and `**/templates/**`.
	Patterns []string `json:"patterns,omitempty"`

	// Exclude are glob patterns (relative to the root) of files and
	// directories whose changes are ignored; a directory excluded is not
	// watched at all. Always excluded: version control directories (.git,
	// .hg, .svn), __pycache__, node_modules, virtualenvs (.venv, venv),
	// tool caches (.tox, .nox, .mypy_cache, .pytest_cache, .ruff_cache),
	// editor backups and lock files (*~, .#*, #*#), and the directories
	// django_files serves static files and media from.
	Exclude []string `json:"exclude,omitempty"`

	// Method is how changes are noticed: "" (auto: inotify, or polling when
	// the root is on a network or virtual filesystem where inotify misses
	// changes, such as a Docker Desktop bind mount, or when inotify cannot
	// be used), "notify" or "poll".
	Method string `json:"method,omitempty"`

	// PollInterval is how often the files are scanned when polling.
	// Default: 1s.
	PollInterval caddy.Duration `json:"poll_interval,omitempty"`

	// Debounce is how long the files must be quiet after a change before
	// the restart (an editor's save, a formatter, `git checkout` come as
	// bursts). Default: 300ms.
	Debounce caddy.Duration `json:"debounce,omitempty"`
}

var (
	defaultWatchPatterns = []string{"**/*.py", "**/templates/**"}
	defaultWatchExcludes = []string{
		"**/.git", "**/.hg", "**/.svn", "**/__pycache__", "**/node_modules", "**/.venv", "**/venv",
		"**/.tox", "**/.nox", "**/.mypy_cache", "**/.pytest_cache", "**/.ruff_cache",
		"**/*~", "**/.#*", "**/#*#",
	}
)

//go:embed watch_check.py
var watchCheckScript string

// watchTarget is one watcher: its options and the entries (groups) it
// restarts; entries with the same options share it.
type watchTarget struct {
	opts   WatchConfig
	groups []string
}

// watchState is a config's watchers and the loop that restarts entries.
type watchState struct {
	targets []*watchTarget
	apps    map[string]string // app server group → its application (for the check)

	mu       sync.Mutex
	watchers []*watch.Watcher
	pending  map[string][]string // group → files changed, not handled yet
	wake     chan struct{}
	cancel   context.CancelFunc
	stopped  bool
	loopDone chan struct{}
}

// provisionWatch resolves the `watch` options of the app servers and
// processes (nothing is watched before Start).
func (a *App) provisionWatch() error {
	a.watch.apps = map[string]string{}
	byKey := map[string]*watchTarget{}
	add := func(group string, c *WatchConfig, o *ProcessOptions) error {
		if c == nil || (o.Enabled != nil && !*o.Enabled) {
			return nil
		}
		opts := *c
		if len(opts.Patterns) == 0 {
			opts.Patterns = defaultWatchPatterns
		}
		if err := watch.ValidatePatterns(slices.Concat(opts.Patterns, opts.Exclude)); err != nil {
			return fmt.Errorf("%s: watch: %v", group, err)
		}
		switch opts.Method {
		case "auto":
			opts.Method = watch.Auto
		case watch.Auto, watch.Notify, watch.Poll:
		default:
			return fmt.Errorf("%s: watch: method %q: want auto, notify or poll", group, opts.Method)
		}
		if opts.PollInterval < 0 || opts.Debounce < 0 {
			return fmt.Errorf("%s: watch: durations must not be negative", group)
		}
		b, _ := json.Marshal(opts)
		t := byKey[string(b)]
		if t == nil {
			t = &watchTarget{opts: opts}
			byKey[string(b)] = t
			a.watch.targets = append(a.watch.targets, t)
		}
		t.groups = append(t.groups, group)
		return nil
	}
	for _, c := range a.appServerConfigs() {
		if c == nil {
			continue
		}
		if err := add(c.serverName(), c.Watch, &c.ProcessOptions); err != nil {
			return err
		}
		a.watch.apps[c.serverName()] = c.App
	}
	for _, p := range a.Processes {
		if p == nil {
			continue
		}
		if err := add(p.Name, p.Watch, &p.ProcessOptions); err != nil {
			return err
		}
	}
	return nil
}

// startWatching starts this config's watchers and its restart loop (in
// the background of Start: registering a big tree takes a while).
func (a *App) startWatching() {
	w := &a.watch
	if len(w.targets) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		cancel()
		return
	}
	w.cancel, w.wake, w.loopDone, w.pending = cancel, make(chan struct{}, 1), make(chan struct{}), map[string][]string{}
	w.mu.Unlock()
	go a.restartLoop(ctx)
	go func() {
		for _, t := range w.targets {
			if !a.startWatcher(t) {
				return
			}
		}
	}()
}

// startWatcher starts t's watcher; false when the config stopped meanwhile.
func (a *App) startWatcher(t *watchTarget) bool {
	log := a.logger.Named("watch")
	include := t.opts.Patterns
	wt, err := watch.New(watch.Options{
		Root:         a.Root,
		Include:      include,
		Exclude:      slices.Concat(defaultWatchExcludes, t.opts.Exclude),
		Ignore:       a.servedDir,
		Debounce:     time.Duration(t.opts.Debounce),
		Method:       t.opts.Method,
		PollInterval: time.Duration(t.opts.PollInterval),
		Logger:       log,
	}, func(changed []string) { a.changed(t.groups, changed) })
	if err != nil {
		log.Error("cannot watch files; changes will not restart anything", zap.Strings("processes", t.groups),
			zap.String("root", a.Root), zap.Error(err))
		return true
	}
	fields := []zap.Field{zap.Strings("processes", t.groups), zap.String("root", wt.Root()),
		zap.Strings("patterns", include), zap.String("method", wt.Method())}
	if wt.Reason() != "" {
		fields = append(fields, zap.String("why", wt.Reason()))
	}
	a.watch.mu.Lock()
	defer a.watch.mu.Unlock()
	if a.watch.stopped {
		wt.Close()
		return false
	}
	a.watch.watchers = append(a.watch.watchers, wt)
	log.Info("watching files: a change restarts these processes", fields...)
	return true
}

// servedDir reports whether path is (in) a directory django_files serves
// static files or media from: collectstatic and uploads restart nothing.
func (a *App) servedDir(path string) bool {
	for _, d := range a.filesDirs() {
		if within(path, d) {
			return true
		}
	}
	return false
}

// filesDirs returns the static and media directories in effect: the
// settings' STATIC_ROOT and MEDIA_ROOT, and those django_files serves.
func (a *App) filesDirs() []string {
	var dirs []string
	if st := a.SettingsStatus(); st != nil && st.Settings != nil {
		for _, d := range []string{st.Settings.StaticRoot, st.Settings.MediaRoot} {
			if d != "" {
				dirs = append(dirs, absUnder(a.Root, d))
			}
		}
	}
	for _, h := range a.settingsHandlers() {
		if r := h.sites.report.Load(); r != nil {
			for _, p := range []*FilesPaths{r.Static, r.Media} {
				if p != nil && p.Dir != "" {
					dirs = append(dirs, p.Dir)
				}
			}
		}
	}
	return dirs
}

// absUnder is p, made absolute relative to dir.
func absUnder(dir, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

// stopWatching stops the watchers and the restart loop (a restart under
// way is abandoned: its new generation is stopped).
func (a *App) stopWatching() {
	w := &a.watch
	w.mu.Lock()
	w.stopped = true
	watchers, cancel, done := w.watchers, w.cancel, w.loopDone
	w.watchers = nil
	w.mu.Unlock()
	for _, wt := range watchers {
		wt.Close()
	}
	if cancel != nil {
		cancel()
		<-done
	}
}

// changed queues the files of a batch for the entries of groups.
func (a *App) changed(groups, files []string) {
	w := &a.watch
	w.mu.Lock()
	for _, g := range groups {
		w.pending[g] = append(w.pending[g], files...)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// restartLoop restarts the entries whose files changed, one at a time:
// app servers first, then processes, each in priority order. Changes that
// come during a restart are handled after it.
func (a *App) restartLoop(ctx context.Context) {
	w := &a.watch
	defer close(w.loopDone)
	for {
		select {
		case <-w.wake:
		case <-ctx.Done():
			return
		}
		w.mu.Lock()
		pending := w.pending
		w.pending = map[string][]string{}
		w.mu.Unlock()
		if currentApp() != a { // a newer config watches for itself
			continue
		}
		es := a.entries()
		slices.SortStableFunc(es, func(x, y *entry) int {
			return cmp.Compare(boolInt(!x.proc().spec.appServer()), boolInt(!y.proc().spec.appServer()))
		})
		for _, e := range es {
			files := pending[e.proc().spec.Group]
			if len(files) == 0 || ctx.Err() != nil {
				continue
			}
			a.watchRestart(ctx, e, files)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// watchRestart restarts e because files changed (unless it is disabled or
// was stopped through the API).
func (a *App) watchRestart(ctx context.Context, e *entry, files []string) {
	p := e.proc()
	st, _ := p.snapshot()
	if p.spec.Disabled || (st == StateStopped && p.started.Load()) {
		return
	}
	files = slices.Compact(slices.Sorted(slices.Values(files)))
	log := p.log()
	fields := []zap.Field{zap.String("file", files[0]), zap.Int("files", len(files))}
	if len(files) > 1 {
		fields = append(fields, zap.Strings("changed", files[:min(len(files), 10)]))
	}
	if !p.spec.appServer() {
		log.Info("files changed: restarting", fields...)
		if err := a.restartEntry(ctx, e); err != nil {
			log.Error("restart after a file change failed", zap.Error(err))
		}
		return
	}
	log.Info("files changed: restarting with the new code once it imports", fields...)
	start := time.Now()
	if err := a.importCheck(ctx, p.spec, a.watch.apps[p.spec.Group]); err != nil {
		a.watchFailed(e, err)
		return
	}
	serving := func(ctx context.Context, next *process) error {
		err := waitFirstStart(ctx, next)
		if err == nil {
			next.log().Info("the new code serves; the previous generation stops", zap.Duration("took", time.Since(start).Round(time.Millisecond)))
		}
		return err
	}
	if err := a.restartEntryWith(ctx, e, serving); err != nil {
		a.watchFailed(e, err)
		return
	}
	// as a deploy does: the settings may have changed (STATIC_URL, the
	// finders' directories)
	a.discoverSettings(ctx, true)
}

// codeError is new code that does not start: the error line (with where
// it was raised) and the traceback it came with.
type codeError struct {
	reason    string
	traceback string
}

func (e *codeError) Error() string { return e.reason }

// watchFailed logs why e's new code was not started and shows it in e's
// status (watch_error) until a restart replaces the running generation.
func (a *App) watchFailed(e *entry, err error) {
	p := e.proc()
	if errors.Is(err, context.Canceled) {
		return
	}
	fields := []zap.Field{zap.String("error", err.Error())}
	var ce *codeError
	if errors.As(err, &ce) && ce.traceback != "" {
		fields = append(fields, zap.String("traceback", ce.traceback))
	}
	msg := "the new code does not start; the running generation keeps serving the previous code (the next change tries again)"
	if st, _ := p.snapshot(); st != StateRunning {
		msg = "the new code does not start (the next change tries again)"
	}
	p.log().Error(msg, fields...)
	p.mu.Lock()
	p.watchErr = err.Error()
	p.mu.Unlock()
}

// waitFirstStart waits until p, a new generation started for new code, is
// RUNNING: its first failed start (or exit) is the error, with the
// program's last error line; a crash loop is not waited for.
func waitFirstStart(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, p.spec.ReadyTimeout+p.spec.StartSecs+5*time.Second)
	defer cancel()
	for {
		state, changed, err := p.readiness()
		switch {
		case state == StateRunning:
			return nil
		case err != nil:
			return err
		case state == StateBackoff:
			st := p.status()
			return &codeError{reason: cmp.Or(st.LastError, "the new "+p.spec.Name+" exited at start ("+st.LastExit+")")}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("the new %s is not running yet (%s): %w", p.spec.Name, state, ctx.Err())
		}
	}
}

// importCheck runs watch_check.py for app server s and application app
// with s's Python (see checkPython), directory, environment and user,
// bounded by s's ready timeout; an error is a *codeError.
func (a *App) importCheck(ctx context.Context, s *spec, app string) error {
	python := a.checkPython(s)
	ctx, cancel := context.WithTimeout(ctx, s.ReadyTimeout)
	defer cancel()
	argv := slices.Concat(python, []string{"-c", watchCheckScript, app})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = s.Dir, s.Env
	if err := configureCmd(cmd, s.User); err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = w, w
	out := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 1<<20))
		_, _ = io.Copy(io.Discard, r)
		r.Close()
		out <- b
	}()
	err = startCmd(cmd)
	w.Close()
	if err != nil {
		<-out
		return fmt.Errorf("cannot run %s to check the new code: %v", python[0], err)
	}
	st := waitOrKill(ctx, cmd, s.ReadyTimeout)
	text := <-out
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if st.code == 0 && st.err == nil {
		return nil
	}
	return checkFailure(text, st)
}

// checkFailure is the codeError of a failed check from its output: its
// traceback's exception line and location, and the traceback's last lines.
func checkFailure(text []byte, st exitInfo) *codeError {
	var c lineClassifier
	var sum outputSummary
	var tb []string
	for _, line := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		kind := c.classify(line)
		sum.note(line, kind, true)
		if kind == lineTraceback || kind == lineException {
			tb = append(tb, line)
		}
	}
	reason := sum.reason()
	if reason == "" {
		reason = "the import check " + st.String()
	}
	return &codeError{reason: reason, traceback: strings.Join(tb[max(0, len(tb)-20):], "\n")}
}

// checkPython is the interpreter of the import check: the app's `python`,
// else s's launcher's (as for the settings probe), else the python3 beside
// the launcher's program (a binary such as uWSGI: a virtualenv's bin/, or
// /usr/bin/ for Debian's uwsgi and python3-django), else python3 from PATH.
func (a *App) checkPython(s *spec) []string {
	if a.Python != "" {
		return []string{a.Python}
	}
	if py := pythonCommand(s.launcher, s.Env); py != nil {
		return py
	}
	if len(s.launcher) > 0 {
		if prog := findProgram(s.launcher[0], s.Env); filepath.IsAbs(prog) {
			for _, name := range []string{"python3", "python"} {
				py := filepath.Join(filepath.Dir(prog), name)
				if fi, err := os.Stat(py); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return []string{py}
				}
			}
		}
	}
	return []string{findProgram("python3", s.Env)}
}

// Interface guards
var _ error = (*codeError)(nil)
