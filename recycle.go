package caddydjango

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"
	"go.uber.org/zap"
)

// Recycling: replacing a process, or one worker of an app server, that is
// over its memory limit (max_memory, memory_guard.go) or holds a request
// django_files gave up on (on_timeout recycle, request_timeout.go), without
// failing a request:
//
//   - a worker of Gunicorn (sync, gthread, gevent) or uWSGI gets its
//     server's graceful signal for one worker (serverKind.workerStop): it
//     finishes what it is answering and exits, and its master starts
//     another, while the other workers serve (with one worker, connections
//     wait in the socket's backlog until the new one accepts them). If it
//     has not exited after its grace (stop_timeout; for a time-out, the
//     request timeout, by when its other requests have met their own
//     deadlines), it is killed, after its Python stack is written to the
//     log when faulthandler is enabled (PYTHONFAULTHANDLER, dumpStack);
//   - any other app server (uvicorn's and hypercorn's workers are not
//     restarted by their master; daphne is one process; Gunicorn's
//     UvicornWorker would close connections it has accepted and not read)
//     is replaced by a new generation, as a restart does: it serves before
//     the old one gets its graceful stop (control.go, appserver_switch.go);
//   - a process (not an app server) is restarted gracefully: its stop
//     signal, SIGKILL after stop_timeout, then started again.
//
// A unit (a worker, a generation, a process) recycled again right after it
// started waits as a crash loop does (backoff, doubling up to
// backoff_max), so that a program over its limit as soon as it starts is
// not restarted in a tight loop.

// Why a process or worker was recycled (the metric's reason label).
const (
	recycleMemory  = "memory"
	recycleTimeout = "timeout"
)

// recycleState is what a process keeps of its recycles (guarded by
// process.mu); a new generation continues its predecessor's (successor).
type recycleState struct {
	count  int
	last   string // what the last recycle was, for status
	lastAt time.Time
	// quick counts recycles in a row of a unit that had just started.
	quick int
	// retiring are the workers told to stop, until they are gone.
	retiring map[int]bool
	// held are the units whose recycle waits (backoff), logged once.
	held map[int]bool
	// under are the units (pids) the memory guard has seen under the
	// limit: one over it since is growing, not over from its start.
	under map[int]bool
}

// recycleEvent describes a recycle for the log, the metric and status.
type recycleEvent struct {
	reason string // recycleMemory or recycleTimeout
	worker int    // the worker's pid; 0 for the process or generation
	// for memory: the unit's resident memory and the limit, in bytes
	rss, limit int64
	// for a time-out: the request timeout
	timeout time.Duration
}

// String is how status shows the event (last_recycle).
func (ev recycleEvent) String() string {
	unit := "the process"
	if ev.worker > 0 {
		unit = fmt.Sprintf("worker %d", ev.worker)
	}
	if ev.reason == recycleMemory {
		return fmt.Sprintf("memory: %s used %s, over max_memory %s", unit, humanize.IBytes(uint64(ev.rss)), humanize.IBytes(uint64(ev.limit)))
	}
	return fmt.Sprintf("timeout: %s held a request past %s", unit, ev.timeout)
}

// fields are the event's log fields.
func (ev recycleEvent) fields() []zap.Field {
	fs := []zap.Field{zap.String("reason", ev.reason)}
	if ev.worker > 0 {
		fs = append(fs, zap.Int("worker_pid", ev.worker))
	}
	if ev.reason == recycleMemory {
		fs = append(fs, zap.Int64("rss", ev.rss), zap.Int64("max_memory", ev.limit),
			zap.String("rss_human", humanize.IBytes(uint64(ev.rss))), zap.String("max_memory_human", humanize.IBytes(uint64(ev.limit))))
	} else {
		fs = append(fs, zap.Duration("timeout", ev.timeout))
	}
	return fs
}

// noteRecycle counts a recycle (status, metric) and logs it at warn.
func (p *process) noteRecycle(ev recycleEvent, msg string, pid int) {
	p.mu.Lock()
	p.rec.count++
	p.rec.last, p.rec.lastAt = ev.String(), time.Now()
	p.mu.Unlock()
	recycleCounter(p.spec.Name, ev.reason).Inc()
	p.log().Warn(msg, append([]zap.Field{zap.Int("pid", pid)}, ev.fields()...)...)
}

// mayRecycle applies the backoff to recycling unit (a worker's pid, or
// the process's): a unit recycled right after it started (quick: over its
// memory limit from its first reading, or holding a timed-out request
// before it ran stably, as for a crash loop: 10s, or startsecs if longer)
// is recycled only once the backoff after the last recycle has passed; it
// reports false until then (logged once per unit). A unit that is not
// quick starts the backoff over.
func (p *process) mayRecycle(unit int, quick bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !quick {
		p.rec.quick = 0
		return true
	}
	now := time.Now()
	wait := backoffDelay(p.rec.quick+1, p.spec.Backoff, p.spec.BackoffMax)
	if next := p.rec.lastAt.Add(wait); now.Before(next) {
		if p.rec.held == nil {
			p.rec.held = map[int]bool{}
		}
		if !p.rec.held[unit] {
			p.rec.held[unit] = true
			p.log().Warn("over its limit again right after it started: recycled after a backoff, as a crash loop",
				zap.Int("pid", unit), zap.Duration("backoff", wait), zap.Duration("in", next.Sub(now).Round(time.Millisecond)))
		}
		return false
	}
	delete(p.rec.held, unit)
	p.rec.quick++
	return true
}

// youngerThanStable reports whether a unit that started at born has not
// run stably yet (see mayRecycle).
func (p *process) youngerThanStable(born time.Time) bool {
	return !born.IsZero() && !p.spec.stableRun(time.Since(born))
}

// recycleWorker tells worker (of the app server whose instance is leader)
// to stop gracefully with its server's signal for one worker, so that its
// master starts another. It gets grace to exit; then, with dump and
// faulthandler enabled, its Python stack is written to the log (which ends
// it), and it is killed. It reports false when the worker is already
// being recycled.
func (p *process) recycleWorker(leader, worker int, grace time.Duration, dump bool, ev recycleEvent) bool {
	sig, err := parseSignal(serverKinds[p.spec.serverWord()].workerStop)
	if err != nil {
		return false
	}
	p.mu.Lock()
	if p.rec.retiring[worker] {
		p.mu.Unlock()
		return false
	}
	if p.rec.retiring == nil {
		p.rec.retiring = map[int]bool{}
	}
	p.rec.retiring[worker] = true
	p.mu.Unlock()
	ev.worker = worker
	p.noteRecycle(ev, "recycling a worker: it stops when its requests are answered and its master starts another", leader)
	if err := signalProcess(worker, sig); err != nil {
		p.log().Warn("signalling the worker", zap.Int("worker_pid", worker), zap.Error(err))
	}
	go func() {
		defer func() {
			p.mu.Lock()
			delete(p.rec.retiring, worker)
			p.mu.Unlock()
		}()
		if waitMemberGone(worker, leader, time.Now().Add(grace)) {
			return
		}
		if dump && p.dumpsStacks() {
			p.dumpStack(worker)
			if waitMemberGone(worker, leader, time.Now().Add(2*time.Second)) {
				return
			}
		}
		p.log().Warn("the worker did not stop in time; killing it", zap.Int("worker_pid", worker), zap.Duration("grace", grace))
		_ = signalProcess(worker, os.Kill)
	}()
	return true
}

// retiring reports whether worker was told to stop and is not gone yet.
func (p *process) retiring(worker int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rec.retiring[worker]
}

// waitMemberGone waits until pid is no longer a live member of process
// group pgid, or deadline; it reports whether it is gone.
func waitMemberGone(pid, pgid int, deadline time.Time) bool {
	for memberAlive(pid, pgid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(groupPollInterval)
	}
	return true
}

// recycleGeneration replaces app server p by a new generation, as a restart
// does: the new one serves before p gets its graceful stop. dumpPID, when
// set, is a stuck worker of p whose Python stack is written to the log
// before p is stopped (with faulthandler enabled). It reports false when p
// is already being replaced, or no longer in use.
func (p *process) recycleGeneration(ev recycleEvent, dumpPID int) bool {
	if !p.recycling.CompareAndSwap(false, true) {
		return false
	}
	a, e := appEntryOf(p)
	if a == nil {
		p.recycling.Store(false)
		return false
	}
	if dumpPID > 0 {
		p.dumpOnStop.Store(int64(dumpPID))
	}
	pid := p.instPID()
	p.noteRecycle(ev, "recycling: a new generation replaces it once it serves, then it stops gracefully", pid)
	go func() {
		if err := a.recycleEntry(context.Background(), e, p); err != nil {
			p.log().Error("recycling: the new generation did not serve; this one keeps serving", zap.Error(err))
			p.dumpOnStop.Store(0)
			p.recycling.Store(false)
		}
	}()
	return true
}

// recycleProcess restarts process p (not an app server) gracefully: its
// supervision loop stops it with its stop signal and starts it again.
func (p *process) recycleProcess(ev recycleEvent) {
	if !p.recycling.CompareAndSwap(false, true) {
		return
	}
	pid := p.instPID()
	p.noteRecycle(ev, "recycling: the process is restarted gracefully", pid)
	select {
	case p.recycleReq <- struct{}{}:
	default:
	}
}

// appEntryOf returns the newest config's app and the registry entry whose
// current process is p (nil when p is not current: already replaced).
func appEntryOf(p *process) (*App, *entry) {
	a := currentApp()
	if a == nil {
		return nil, nil
	}
	registry.Lock()
	defer registry.Unlock()
	for _, e := range registry.entries {
		if e.proc() == p {
			return a, e
		}
	}
	return nil, nil
}

// dumpsStacks reports whether p's Python processes write their stacks on
// dumpSignal: faulthandler is enabled in their environment
// (PYTHONFAULTHANDLER set and not empty, as Python reads it).
func (p *process) dumpsStacks() bool {
	for _, kv := range p.spec.Env {
		if v, ok := strings.CutPrefix(kv, "PYTHONFAULTHANDLER="); ok && v != "" {
			return true
		}
	}
	return false
}

// dumpStack makes worker pid write every thread's Python stack to its
// stderr (which Caddy logs as the process's output) through faulthandler,
// which then ends it. Its core dump is turned off first: the stack is what
// is wanted, not a core file of the worker's memory.
func (p *process) dumpStack(pid int) {
	name := p.spec.dumpSignal()
	sig, err := parseSignal(name)
	if err != nil {
		return
	}
	noCoreDump(pid)
	p.log().Warn("writing the stuck worker's Python stack to the log (faulthandler: the 'Fatal Python error' lines that follow are that stack, not a crash); it ends the worker",
		zap.Int("worker_pid", pid), zap.String("signal", "SIG"+name))
	_ = signalProcess(pid, sig)
}

// dumpBeforeStop writes the Python stack of the worker recycleGeneration
// named, when it is still alive, before inst gets its stop signal.
func (p *process) dumpBeforeStop(inst *instance) {
	pid := int(p.dumpOnStop.Swap(0))
	if pid <= 0 || !p.dumpsStacks() || !memberAlive(pid, inst.pid) {
		return
	}
	p.dumpStack(pid)
	waitMemberGone(pid, inst.pid, time.Now().Add(2*time.Second))
}

// recycleStatus adds p's recycles to its status.
func (p *process) recycleStatus(st *ProcessStatus) {
	st.MaxMemory = p.spec.memLimit
	st.Recycles = p.rec.count
	st.LastRecycle = p.rec.last
	st.LastRecycleAt = p.rec.lastAt
}

// recycleFlags are a process's recycle flags; they are not carried to a
// new generation.
type recycleFlags struct {
	// recycling: a recycle of the whole process is under way.
	recycling atomic.Bool
	// dumpOnStop is the worker whose stack is written before the stop.
	dumpOnStop atomic.Int64
	// recycleReq asks a process's supervision loop to restart it.
	recycleReq chan struct{}
}

// continueRecycles carries old's recycle count and backoff to next, its
// new generation.
func (next *process) continueRecycles(old *process) {
	old.mu.Lock()
	rec := recycleState{count: old.rec.count, last: old.rec.last, lastAt: old.rec.lastAt, quick: old.rec.quick}
	old.mu.Unlock()
	next.mu.Lock()
	next.rec = rec
	next.mu.Unlock()
}

// recycleStuck recycles the worker (pid; 0 when it is not known) of app
// server s that holds a request that timed out: the worker alone when its
// server replaces one worker (grace: the request timeout, by when its
// other requests have met their own deadlines), else a new generation.
func (a *App) recycleStuck(s *spec, pid int, timeout time.Duration) {
	ev := recycleEvent{reason: recycleTimeout, timeout: timeout}
	var p *process
	leader := 0
	if pid > 0 {
		g := groupOf(pid)
		for _, q := range appServersOn(s.Bind) {
			if l := q.leaderPID(); l > 0 && l == g {
				p, leader = q, l
			}
		}
		if p == nil {
			a.logger.Warn("the process that held the timed-out request is not one of the app server's: not recycled",
				zap.String("app_server", s.Name), zap.Int("worker_pid", pid))
			return
		}
	} else if e := a.entry(s.Name); e != nil {
		p = e.proc()
		leader = p.leaderPID()
	}
	if p == nil || leader <= 0 {
		return
	}
	if pid > 0 && p.spec.recyclesWorkers() {
		t := readProcTable()
		if master, _ := t.serverProcs(leader); pid != master && pid != leader {
			if !p.retiring(pid) && p.mayRecycle(pid, p.youngerThanStable(t.started(pid))) {
				p.recycleWorker(leader, pid, timeout, true, ev)
			}
			return
		}
	}
	if !p.recycling.Load() && p.mayRecycle(leader, p.youngerThanStable(p.startTime())) {
		ev.worker = pid
		p.recycleGeneration(ev, pid)
	}
}

// leaderPID is the pid of p's current OS process (the leader of its
// process group), 0 when it has none.
func (p *process) leaderPID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst == nil || (p.state != StateRunning && p.state != StateStarting && p.state != StateStopping) {
		return 0
	}
	return p.inst.pid
}

// instPID is the pid of p's last OS process, 0 before its first launch.
func (p *process) instPID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst == nil {
		return 0
	}
	return p.inst.pid
}

// startTime is when p's current OS process started.
func (p *process) startTime() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startedAt
}
