package caddydjango

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// Caddy starts a new config's apps before it stops the old config's, so
// processes live in a package-level registry keyed by their definition: a
// config that uses an identical definition shares the running process (same
// PID); the process stops when the last config using it stops.
var registry = struct {
	sync.Mutex
	entries map[string]*entry
	apps    []*App // started, not yet stopped; the last is current
}{entries: map[string]*entry{}}

// entry is a registry slot. Its process can be swapped for a new generation
// (a zero-downtime Gunicorn restart) while configs keep referring to it.
type entry struct {
	key  string
	refs int

	mu sync.Mutex
	p  *process
	// ops serialises restarts, stops and starts through the admin API.
	ops sync.Mutex
}

func (e *entry) proc() *process {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.p
}

func (e *entry) swap(p *process) *process {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.p
	e.p = p
	return old
}

// exitFunc ends Caddy when an essential process is FATAL. A variable so
// in-process tests can observe it.
var exitFunc = func(code int) {
	if err := caddy.Stop(); err != nil {
		caddy.Log().Error("stopping after an essential process failed", zap.Error(err))
	}
	os.Exit(code)
}

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

// currentApp is the newest started config's app, or nil.
func currentApp() *App {
	registry.Lock()
	defer registry.Unlock()
	if n := len(registry.apps); n > 0 {
		return registry.apps[n-1]
	}
	return nil
}

func (a *App) entry(name string) *entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.started {
		if e.proc().spec.Name == name {
			return e
		}
	}
	return nil
}

func (a *App) entries() []*entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.started)
}

func (a *App) start() error {
	registry.Lock()
	var prev *App
	if n := len(registry.apps); n > 0 {
		prev = registry.apps[n-1]
	}
	registry.apps = append(registry.apps, a)
	var fresh []*entry
	specs := slices.Clone(a.specs)
	slices.SortStableFunc(specs, func(x, y *spec) int { return x.Priority - y.Priority })
	for _, s := range specs {
		e, ok := registry.entries[s.key]
		if ok {
			e.refs++
			e.proc().logger.Store(a.logger)
		} else {
			e = &entry{key: s.key, refs: 1, p: a.newProcess(s)}
			registry.entries[s.key] = e
			fresh = append(fresh, e)
		}
		a.mu.Lock() // handlers of this config may already ask (entry)
		a.started = append(a.started, e)
		a.mu.Unlock()
	}
	registry.Unlock()

	if a.Gunicorn != nil {
		g := a.gunicornSpec()
		if _, err := acquireSocket(g.Bind); err != nil {
			a.abort()
			return err
		}
		a.heldBind = g.Bind
	}
	if len(fresh) == 0 {
		return nil
	}

	var oldGunicorn *process
	if prev != nil {
		if e := prev.entry(gunicornName); e != nil {
			if st, _ := e.proc().snapshot(); st == StateRunning || st == StateStarting {
				oldGunicorn = e.proc()
			}
		}
	}
	freshGunicorn := slices.ContainsFunc(fresh, func(e *entry) bool { return e.proc().spec.gunicorn() })

	if freshGunicorn && oldGunicorn != nil {
		// A reload that replaces a serving Gunicorn: releases, then the new
		// one must serve before Caddy stops the old config (and its Gunicorn).
		if err := a.runReleases(context.Background()); err != nil {
			a.abort()
			return err
		}
		startInOrder(fresh)
		for _, e := range fresh {
			if p := e.proc(); p.spec.gunicorn() {
				ctx, cancel := context.WithTimeout(context.Background(), p.spec.ReadyTimeout+p.spec.StartSecs+5*time.Second)
				err := p.waitRunning(ctx)
				cancel()
				if err != nil {
					a.abort()
					return fmt.Errorf("new gunicorn did not start, the running one keeps serving: %v", err)
				}
			}
		}
		return nil
	}

	// Boot (or nothing to replace): do not hold up Caddy. Releases (at boot,
	// or for a new Gunicorn) run first in the background, then the processes
	// start in priority order.
	runReleases := len(a.Release) > 0 && (freshGunicorn || prev == nil)
	go func() {
		if runReleases {
			if err := a.runReleases(context.Background()); err != nil {
				for _, e := range fresh {
					p := e.proc()
					p.setState(StateFatal, func() { p.lastErr = err.Error() })
					if p.onFatal != nil {
						p.onFatal(p)
					}
				}
				return
			}
		}
		startInOrder(fresh)
	}()
	return nil
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

func (a *App) gunicornSpec() *spec {
	for _, s := range a.specs {
		if s.gunicorn() {
			return s
		}
	}
	return nil
}

// abort undoes a failed Start.
func (a *App) abort() { a.stopOnce.Do(a.stop) }

// stop releases this config's entries; entries no other config uses are
// stopped, groups of equal priority in parallel, highest priority first.
func (a *App) stop() {
	registry.Lock()
	registry.apps = slices.DeleteFunc(registry.apps, func(x *App) bool { return x == a })
	var last []*entry
	for _, e := range a.entries() {
		e.refs--
		if e.refs <= 0 {
			delete(registry.entries, e.key)
			last = append(last, e)
		}
	}
	registry.Unlock()

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
	if a.heldBind != "" {
		releaseSocket(a.heldBind)
	}
}

// runReleases runs the release commands in order; the first failure stops
// them and its output is part of the error.
func (a *App) runReleases(ctx context.Context) error {
	for _, argv := range a.Release {
		if err := a.runRelease(ctx, argv); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) runRelease(ctx context.Context, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(a.ReleaseTimeout))
	defer cancel()
	log := a.logger.Named("release")
	log.Info("running release command", zap.Strings("command", argv))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = a.env
	cmd.Dir = a.Root
	if err := configureCmd(cmd, ""); err != nil {
		return err
	}
	// A pipe of our own rather than exec's copying goroutines: with the PID 1
	// reaper on, the exit status comes from waitCmd, not cmd.Wait.
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = w, w
	tail := &tailWriter{max: releaseOutputBytes, log: log}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(tail, r)
		r.Close()
		close(copied)
	}()
	start := time.Now()
	err = startCmd(cmd)
	w.Close()
	if err != nil {
		<-copied
		return fmt.Errorf("release command %q cannot start: %v", strings.Join(argv, " "), err)
	}
	exited := make(chan exitInfo, 1)
	go func() { exited <- waitCmd(cmd) }()
	var st exitInfo
	select {
	case st = <-exited:
	case <-ctx.Done():
		_ = killGroup(cmd.Process.Pid)
		<-exited
		st = exitInfo{code: -1, err: fmt.Errorf("timed out after %s", time.Duration(a.ReleaseTimeout))}
	}
	_ = killGroup(cmd.Process.Pid) // nothing of it may outlive it
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	tail.flush()
	if st.code != 0 || st.err != nil {
		return fmt.Errorf("release command %q failed: %s\n%s", strings.Join(argv, " "), st, strings.TrimSpace(tail.String()))
	}
	log.Info("release command done", zap.Strings("command", argv), zap.Duration("took", time.Since(start)))
	return nil
}

// tailWriter logs each line and keeps the last max bytes.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	partial []byte
	log     *zap.Logger
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	t.partial = append(t.partial, b...)
	for {
		i := slices.Index(t.partial, '\n')
		if i < 0 {
			break
		}
		t.log.Info(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	return len(b), nil
}

func (t *tailWriter) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.log.Info(string(t.partial))
		t.partial = nil
	}
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// Statuses reports every process of the current config.
func (a *App) Statuses() []ProcessStatus {
	out := []ProcessStatus{}
	for _, e := range a.entries() {
		out = append(out, e.proc().status())
	}
	return out
}

// matching returns the entries whose process or group is name.
func (a *App) matching(name string) []*entry {
	var out []*entry
	for _, e := range a.entries() {
		s := e.proc().spec
		if s.Name == name || s.Group == name {
			out = append(out, e)
		}
	}
	return out
}

var errNoSuchProcess = errors.New("no such process")

// Restart restarts the named process (or every replica of a group). Gunicorn
// is swapped with zero downtime: a new generation serves before the old one
// gets its graceful stop.
func (a *App) Restart(ctx context.Context, name string) error {
	es := a.matching(name)
	if len(es) == 0 {
		return fmt.Errorf("%w: %s", errNoSuchProcess, name)
	}
	for _, e := range es {
		if err := a.restartEntry(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) restartEntry(ctx context.Context, e *entry) error {
	e.ops.Lock()
	defer e.ops.Unlock()
	old := e.proc()
	next := a.newProcess(old.spec)
	next.logger.Store(old.logger.Load())
	next.restarts = old.status().Restarts + 1
	if !old.spec.gunicorn() {
		old.stop()
		e.swap(next)
		next.start()
		next.waitLaunched()
		return nil
	}
	next.start()
	wctx, cancel := context.WithTimeout(ctx, old.spec.ReadyTimeout+old.spec.StartSecs+5*time.Second)
	defer cancel()
	if err := next.waitRunning(wctx); err != nil {
		next.stop()
		return fmt.Errorf("new gunicorn did not start, the running one keeps serving: %v", err)
	}
	e.swap(next)
	old.stop()
	return nil
}

// StopProcess stops the named process (it stays stopped until started).
func (a *App) StopProcess(name string) error {
	es := a.matching(name)
	if len(es) == 0 {
		return fmt.Errorf("%w: %s", errNoSuchProcess, name)
	}
	for _, e := range es {
		e.ops.Lock()
		e.proc().stop()
		e.ops.Unlock()
	}
	return nil
}

// StartProcess starts the named process if it is not running (after a stop,
// EXITED or FATAL).
func (a *App) StartProcess(name string) error {
	es := a.matching(name)
	if len(es) == 0 {
		return fmt.Errorf("%w: %s", errNoSuchProcess, name)
	}
	for _, e := range es {
		e.ops.Lock()
		old := e.proc()
		st, _ := old.snapshot()
		if !old.started.Load() {
			old.start()
		} else if st == StateStopped || st == StateExited || st == StateFatal {
			old.stop()
			next := a.newProcess(old.spec)
			next.logger.Store(old.logger.Load())
			next.restarts = old.status().Restarts
			e.swap(next)
			next.start()
		}
		e.proc().waitLaunched()
		e.ops.Unlock()
	}
	return nil
}

// Signal sends sig to the named process (every replica of a group): a
// control signal (HUP, TTIN, TTOU, USR1, USR2, WINCH) to the program itself,
// any other to its process group (see process.signal).
func (a *App) Signal(name, sig string) error {
	es := a.matching(name)
	if len(es) == 0 {
		return fmt.Errorf("%w: %s", errNoSuchProcess, name)
	}
	for _, e := range es {
		if err := e.proc().signal(sig); err != nil {
			return err
		}
	}
	return nil
}

// Deploy is the deploy hook (`POST /django/reload`): release commands, then
// a zero-downtime Gunicorn swap (new code), then the other processes restart.
// A failing release stops the deploy; the running Gunicorn keeps serving.
func (a *App) Deploy(ctx context.Context) error {
	if err := a.runReleases(ctx); err != nil {
		return err
	}
	if e := a.entry(gunicornName); e != nil {
		if err := a.restartEntry(ctx, e); err != nil {
			return err
		}
	}
	for _, e := range a.entries() {
		if !e.proc().spec.gunicorn() {
			if err := a.restartEntry(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}
