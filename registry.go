package caddydjango

import (
	"slices"
	"sync"
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

// gunicornsOn returns the Gunicorn processes of all started configs that
// bind bind.
func gunicornsOn(bind bindAddr) []*process {
	registry.Lock()
	apps := slices.Clone(registry.apps)
	registry.Unlock()
	var out []*process
	for _, a := range apps {
		if s := a.gunicornSpec(); s == nil || s.Bind != bind {
			continue
		}
		if e := a.entry(gunicornName); e != nil {
			if p := e.proc(); !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}
