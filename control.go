package caddydjango

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
