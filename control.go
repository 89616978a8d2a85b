package caddydjango

import (
	"context"
	"errors"
	"fmt"
)

// The control operations of the admin API (and `caddy django …`) act on
// the current config's processes by name: a process, or every replica of
// a group. Restart, stop and start hold the entry's ops lock while they
// act, so two of them on one process never interleave.

var errNoSuchProcess = errors.New("no such process")

// Statuses reports every process of the current config.
func (a *App) Statuses() []ProcessStatus { return statuses(a.entries()) }

// StatusesOf reports the named process (every replica of a group).
func (a *App) StatusesOf(name string) []ProcessStatus { return statuses(a.matching(name)) }

func statuses(es []*entry) []ProcessStatus {
	out := []ProcessStatus{}
	for _, e := range es {
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

// each runs fn on every entry named name (see matching), in order, and
// stops at the first error; no match is errNoSuchProcess.
func (a *App) each(name string, fn func(*entry) error) error {
	es := a.matching(name)
	if len(es) == 0 {
		return fmt.Errorf("%w: %s", errNoSuchProcess, name)
	}
	for _, e := range es {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Restart restarts the named process (or every replica of a group). An app
// server is swapped with zero downtime: a new generation serves before the
// old one gets its graceful stop.
func (a *App) Restart(ctx context.Context, name string) error {
	return a.each(name, func(e *entry) error { return a.restartEntry(ctx, e) })
}

func (a *App) restartEntry(ctx context.Context, e *entry) error {
	return a.restartEntryWith(ctx, e, waitReplacement)
}

// restartEntryWith is restartEntry, with wait saying when a new app server
// generation serves (or cannot).
func (a *App) restartEntryWith(ctx context.Context, e *entry, wait func(context.Context, *process) error) error {
	e.ops.Lock()
	defer e.ops.Unlock()
	return a.restartLocked(ctx, e, wait)
}

// recycleEntry restarts e as restartEntry does when its process is still
// p (recycle.go: p was recycled; nothing to do when it was replaced
// meanwhile).
func (a *App) recycleEntry(ctx context.Context, e *entry, p *process) error {
	e.ops.Lock()
	defer e.ops.Unlock()
	if e.proc() != p {
		return nil
	}
	return a.restartLocked(ctx, e, waitReplacement)
}

// restartLocked restarts e's process, wait saying when a new app server
// generation serves (or cannot); e.ops is held.
func (a *App) restartLocked(ctx context.Context, e *entry, wait func(context.Context, *process) error) error {
	old := e.proc()
	if old.spec.Disabled {
		return errDisabled(old)
	}
	next := a.successor(old, 1)
	if !old.spec.appServer() {
		old.stop()
		e.swap(next)
		next.start()
		next.waitLaunched()
		return nil
	}
	next.start()
	if err := wait(ctx, next); err != nil {
		next.stop()
		return err
	}
	e.swap(next)
	old.stop()
	return nil
}

// successor is a new, unstarted generation of old's program that logs like
// it and continues its restart count (plus extra).
func (a *App) successor(old *process, extra int) *process {
	next := a.newProcess(old.spec)
	next.logger.Store(old.logger.Load())
	next.restarts = old.status().Restarts + extra
	next.continueRecycles(old)
	return next
}

// StopProcess stops the named process (it stays stopped until started).
func (a *App) StopProcess(name string) error {
	return a.each(name, func(e *entry) error {
		e.ops.Lock()
		defer e.ops.Unlock()
		e.proc().stop()
		return nil
	})
}

// StartProcess starts the named process if it is not running (after a stop,
// EXITED or FATAL).
func (a *App) StartProcess(name string) error {
	return a.each(name, func(e *entry) error {
		e.ops.Lock()
		defer e.ops.Unlock()
		old := e.proc()
		if old.spec.Disabled {
			return errDisabled(old)
		}
		if old.spec.Schedule != "" {
			return a.startSchedule(context.Background(), e)
		}
		st, _ := old.snapshot()
		if !old.started.Load() {
			old.start()
		} else if st == StateStopped || st == StateExited || st == StateFatal {
			old.stop()
			next := a.successor(old, 0)
			e.swap(next)
			next.start()
		}
		e.proc().waitLaunched()
		return nil
	})
}

// errDisabled: p has `enabled false`; it cannot be started (HTTP 409).
func errDisabled(p *process) error { return notRunningError{p.spec.Name, StateDisabled} }

// Signal sends sig to the named process (every replica of a group): a
// control signal (HUP, TTIN, TTOU, USR1, USR2, WINCH) to the program itself,
// any other to its process group (see process.signal).
func (a *App) Signal(name, sig string) error {
	return a.each(name, func(e *entry) error { return e.proc().signal(sig) })
}

// Deploy is the deploy hook (`POST /django/reload`): release commands, then
// the settings are read again (django_files' paths), then a zero-downtime
// swap of each app server (new code), then the other processes restart. A
// failing release stops the deploy; the running app servers keep serving.
func (a *App) Deploy(ctx context.Context) error {
	if err := a.runReleases(ctx); err != nil {
		return err
	}
	a.discoverSettings(ctx, true)
	for _, e := range a.entries() {
		if s := e.proc().spec; s.appServer() && !s.Disabled {
			if err := a.restartEntry(ctx, e); err != nil {
				return err
			}
		}
	}
	for _, e := range a.entries() {
		if s := e.proc().spec; !s.appServer() && !s.Disabled && s.Schedule == "" {
			if err := a.restartEntry(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}
