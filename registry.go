package caddydjango

import (
	"slices"
	"sync"
)

// Caddy starts a new config's apps before it stops the old config's, so
// processes live in a package-level registry keyed by their definition: a
// config that uses an identical definition shares the running process (same
// PID); the process stops when the last config using it stops.
//
// Lock order, outermost first: a goroutine that holds one of these locks
// takes only locks further down the list.
//
//	entry.ops       one control operation or stop of an entry, held while it
//	                waits for a process to stop or to serve; taken with no
//	                other lock held
//	registry.Mutex  entries, their refs, the started apps (register, unregister)
//	App.mu          a config's started entries (App.entry, App.entries)
//	entry.mu        an entry's current process generation (proc, swap)
//	process.mu      a process's state and current instance
//
// The held sockets' mutex (socket.go) is taken with none of these held.
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

// appServersOn returns the app server processes of all started configs
// that bind bind.
func appServersOn(bind bindAddr) []*process {
	registry.Lock()
	apps := slices.Clone(registry.apps)
	registry.Unlock()
	var out []*process
	for _, a := range apps {
		for _, s := range a.specs {
			if !s.appServer() || s.Bind != bind {
				continue
			}
			if e := a.entry(s.Name); e != nil {
				if p := e.proc(); !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// register adds a to the started configs, the last being current, and
// gives it an entry per definition, in priority order: the running one of
// an identical definition (shared), or a new one, returned in fresh (not
// started). prev is the config that was current, or nil.
func (a *App) register() (prev *App, fresh []*entry) {
	registry.Lock()
	defer registry.Unlock()
	if n := len(registry.apps); n > 0 {
		prev = registry.apps[n-1]
	}
	registry.apps = append(registry.apps, a)
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
	return prev, fresh
}

// unregister removes a from the started configs and drops its references;
// it returns the entries no other config uses (to be stopped).
func (a *App) unregister() (last []*entry) {
	registry.Lock()
	defer registry.Unlock()
	registry.apps = slices.DeleteFunc(registry.apps, func(x *App) bool { return x == a })
	for _, e := range a.entries() {
		e.refs--
		if e.refs <= 0 {
			delete(registry.entries, e.key)
			last = append(last, e)
		}
	}
	return last
}
