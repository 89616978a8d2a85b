package caddydjango

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"
)

// The memory guard: every memoryCheckInterval, one reading of /proc (the
// one the process metrics use, procTable) is compared with the max_memory
// of every RUNNING process that has one, and what is over is recycled
// (recycle.go):
//
//   - an app server with workers (its master's children: Gunicorn, uWSGI,
//     uvicorn and hypercorn with --workers) is measured per worker, each
//     with its own children, and its master alone; a worker over the limit
//     is replaced alone where its server can (spec.recyclesWorkers), one
//     worker at a time, so that the others serve meanwhile; else by a new
//     generation, as is the whole generation when its master is over;
//   - a one-process app server (daphne, uvicorn without --workers) and any
//     other process are measured with all their children.
//
// Resident memory is RSS, as `ps` and the process metric show it: a
// worker's counts the pages it shares with its master.

// memoryCheckInterval is how often the guard reads /proc.
const memoryCheckInterval = 2 * time.Second

// memoryWatch is the guard's list of running processes with a limit, and
// whether its loop runs (it runs while the list is not empty).
var memoryWatch = struct {
	sync.Mutex
	procs   map[*process]*instance
	running bool
}{procs: map[*process]*instance{}}

// watchMemory puts inst, p's running OS process, under the guard when p
// has a limit, until the returned function is called.
func watchMemory(p *process, inst *instance) (unwatch func()) {
	if p.spec.memLimit <= 0 {
		return func() {}
	}
	memoryWatch.Lock()
	memoryWatch.procs[p] = inst
	if !memoryWatch.running {
		memoryWatch.running = true
		go guardMemory()
	}
	memoryWatch.Unlock()
	return func() {
		memoryWatch.Lock()
		delete(memoryWatch.procs, p)
		memoryWatch.Unlock()
	}
}

// guardMemory checks the watched processes until there are none.
func guardMemory() {
	tick := time.NewTicker(memoryCheckInterval)
	defer tick.Stop()
	for range tick.C {
		memoryWatch.Lock()
		if len(memoryWatch.procs) == 0 {
			memoryWatch.running = false
			memoryWatch.Unlock()
			return
		}
		watched := maps.Clone(memoryWatch.procs)
		memoryWatch.Unlock()
		t := readProcTable()
		for p, inst := range watched {
			p.checkMemory(t, inst)
		}
	}
}

// checkMemory compares inst (p's running OS process) with p's limit and
// recycles what is over. A unit over the limit from its first reading (it
// starts over it) is recycled with a backoff (mayRecycle).
func (p *process) checkMemory(t procTable, inst *instance) {
	limit := p.spec.memLimit
	if p.recycling.Load() {
		return
	}
	type unit struct {
		pid int
		rss int64
	}
	var units []unit // what is measured: workers, or the process
	master, workers := t.serverProcs(inst.pid)
	switch {
	case !p.spec.appServer() || len(workers) == 0:
		if rss, ok := t.treeRSS(master); ok {
			units = append(units, unit{inst.pid, rss})
		}
	default:
		units = append(units, unit{inst.pid, t.rss(master)}) // the master alone
		for _, w := range workers {
			if rss, ok := t.treeRSS(w); ok {
				units = append(units, unit{w, rss})
			}
		}
	}
	p.mu.Lock()
	under := map[int]bool{}
	var over []unit
	for _, u := range units {
		if u.rss <= limit || p.rec.under[u.pid] {
			under[u.pid] = true
		}
		if u.rss > limit {
			over = append(over, u)
		}
	}
	p.rec.under = under
	// workers are replaced one at a time, the largest first: the others
	// serve meanwhile (each recycle waits until the last one's worker
	// has gone, a check later at least)
	workerBusy := len(p.rec.retiring) > 0
	p.mu.Unlock()
	slices.SortFunc(over, func(a, b unit) int { return cmp.Compare(b.rss, a.rss) })
	for _, u := range over {
		ev := recycleEvent{reason: recycleMemory, rss: u.rss, limit: limit}
		quick := !under[u.pid]
		switch {
		case !p.spec.appServer():
			// restarted by its supervision loop, with its crash-loop backoff
			p.recycleProcess(ev)
			return
		case u.pid != inst.pid && p.spec.recyclesWorkers():
			if !workerBusy && p.mayRecycle(u.pid, quick) {
				workerBusy = p.recycleWorker(inst.pid, u.pid, p.spec.StopTimeout, false, ev)
			}
		default: // the master, a one-process server, or a worker of a server that replaces no single worker
			if u.pid != inst.pid {
				ev.worker = u.pid
			}
			if p.mayRecycle(inst.pid, quick) {
				p.recycleGeneration(ev, 0)
			}
			return
		}
	}
}
