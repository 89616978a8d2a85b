package caddydjango

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Process states, as supervisord names them.
const (
	StateStopped  = "STOPPED"
	StateStarting = "STARTING"
	StateRunning  = "RUNNING"
	StateBackoff  = "BACKOFF"
	StateStopping = "STOPPING"
	StateExited   = "EXITED"
	StateFatal    = "FATAL"
	// StateDisabled: the entry has `enabled false`; it never starts.
	StateDisabled = "DISABLED"
)

// notRunningError: the action needs a running process (HTTP 409).
type notRunningError struct{ name, state string }

func (e notRunningError) Error() string { return e.name + " is not running (" + e.state + ")" }

// process supervises one program: it starts it, restarts it by policy with
// backoff, and stops it with its whole process group.
type process struct {
	spec   *spec
	logger atomic.Pointer[zap.Logger] // follows the newest config's logger

	mu        sync.Mutex
	state     string
	inst      *instance
	startedAt time.Time
	restarts  int
	lastExit  string
	lastErr   string
	watchErr  string        // why new code did not replace it (watch_restart.go)
	changed   chan struct{} // closed and replaced on every state change

	stopReq  chan struct{}
	stopOnce sync.Once
	launched chan struct{} // closed after the first launch attempt
	launchOK sync.Once
	done     chan struct{}
	started  atomic.Bool
	onFatal  func(*process)

	// gen is an app server generation's own socket (appserver_switch.go).
	gen *genSocket
	// watchApp holds the application wrapper of a watched app server
	// (watch_app.go).
	watchApp *watchAppDir
	// orphans counts the groups of killed masters whose workers still
	// serve (keepOrphans).
	orphans sync.WaitGroup

	sched   scheduleState   // a schedule's runs (schedule.go)
	trigger chan chan error // a schedule's "run now" requests

	rec recycleState // recycles (recycle.go), guarded by mu
	recycleFlags
}

func newProcess(s *spec, logger *zap.Logger) *process {
	p := &process{
		spec:     s,
		state:    StateStopped,
		changed:  make(chan struct{}),
		stopReq:  make(chan struct{}),
		done:     make(chan struct{}),
		launched: make(chan struct{}),
		trigger:  make(chan chan error),
	}
	p.recycleReq = make(chan struct{}, 1)
	if s.Disabled {
		p.state = StateDisabled
	}
	p.logger.Store(logger)
	return p
}

func (p *process) log() *zap.Logger {
	return p.logger.Load().With(zap.String("process", p.spec.Name))
}

// output returns the logger that carries the process's own lines.
func (p *process) output() *zap.Logger {
	return p.logger.Load().Named(p.spec.Name)
}

func (p *process) setState(state string, fn func()) {
	p.mu.Lock()
	if fn != nil {
		fn()
	}
	p.state = state
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// snapshot returns the state and a channel closed on the next change.
func (p *process) snapshot() (string, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, p.changed
}

// start launches the supervision loop; it does not wait for the program.
func (p *process) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started.Load() || p.stopping() || p.spec.Disabled {
		return
	}
	p.started.Store(true)
	if p.spec.Schedule != "" {
		go p.runSchedule()
		return
	}
	go p.run()
}

func (p *process) markLaunched() { p.launchOK.Do(func() { close(p.launched) }) }

// waitLaunched waits until the first launch was attempted (or the process
// will never launch).
func (p *process) waitLaunched() {
	p.mu.Lock()
	started := p.started.Load()
	p.mu.Unlock()
	if started {
		<-p.launched
	}
}

// stop asks the loop to stop the program gracefully and waits until it has:
// stop signal to the group, then SIGKILL to the group after StopTimeout.
func (p *process) stop() {
	p.mu.Lock()
	p.stopOnce.Do(func() { close(p.stopReq) })
	started := p.started.Load()
	p.mu.Unlock()
	if started {
		<-p.done
	}
}

func (p *process) stopping() bool {
	select {
	case <-p.stopReq:
		return true
	default:
		return false
	}
}

// signal sends sig to the running program: a control signal (HUP, TTIN,
// TTOU, USR1, USR2, WINCH) to the program itself, the group leader, which
// passes it on as it sees fit (Gunicorn's master); any other signal (TERM,
// INT, QUIT, KILL...) to its whole process group.
func (p *process) signal(sig string) error {
	p.mu.Lock()
	inst := p.inst
	state := p.state
	p.mu.Unlock()
	if inst == nil || (state != StateRunning && state != StateStarting) {
		return notRunningError{p.spec.Name, state}
	}
	s, err := parseSignal(sig)
	if err != nil {
		return err
	}
	if isControlSignal(s) {
		return signalProcess(inst.pid, s)
	}
	return signalGroup(inst.pid, s)
}

// run is the supervision loop.
func (p *process) run() {
	defer close(p.done)
	defer p.orphans.Wait() // workers of a killed master (keepOrphans)
	defer p.markLaunched()
	defer closeOwnSocket(p)
	defer closeWatchApp(p)
	startFailures, quickExits := 0, 0
	for {
		if p.stopping() {
			p.setState(StateStopped, nil)
			return
		}
		p.setState(StateStarting, nil)
		inst, err := p.launch()
		if err != nil {
			p.log().Error("cannot start process", zap.Error(err))
			p.markLaunched()
			p.setState(StateStarting, func() { p.lastErr = err.Error() })
			startFailures++
		} else {
			p.mu.Lock()
			p.inst, p.startedAt = inst, time.Now()
			p.mu.Unlock()
			// logged before the next process (by priority) may launch
			// (markLaunched), so that the log shows the launches in order
			p.log().Info("process started", zap.Int("pid", inst.pid), zap.Strings("command", p.spec.Argv))
			p.markLaunched()
			ok, stopped := p.awaitStarted(inst)
			if stopped {
				return
			}
			if ok {
				startFailures = 0
				stopped, stable, recycled := p.whileRunning(inst)
				if stopped {
					return
				}
				if stable {
					quickExits = 0
				} else {
					quickExits++
				}
				if recycled { // restarted whatever autorestart says
					if !p.restartAfter(quickExits) {
						return
					}
					continue
				}
				if !p.shouldRestart(inst.status) {
					p.log().Info("process exited; not restarting", zap.String("exit", inst.status.String()), zap.String("autorestart", p.spec.Autorestart))
					p.setState(StateExited, nil)
					p.parkUntilStop()
					return
				}
				p.log().Warn("process exited; restarting", zap.String("exit", inst.status.String()))
				if !p.restartAfter(quickExits) {
					return
				}
				continue
			}
			startFailures++
		}
		if startFailures > p.spec.Retries {
			p.setState(StateFatal, nil)
			p.log().Error("process is FATAL: too many failed starts", zap.Int("startretries", p.spec.Retries), zap.String("last_error", p.status().LastError))
			if p.onFatal != nil {
				p.onFatal(p)
			}
			p.parkUntilStop()
			return
		}
		if !p.restartAfter(startFailures + quickExits) {
			return
		}
	}
}

// whileRunning marks inst RUNNING and waits until it exits, or until a stop
// is requested: then it stops inst, the process is STOPPED and stopped is
// true. stable reports a run long enough that a restart is immediate.
// recycled reports that it was stopped to be recycled (recycleProcess).
func (p *process) whileRunning(inst *instance) (stopped, stable, recycled bool) {
	switchTo(p) // a new generation serves: django_files' requests go to it
	p.setState(StateRunning, func() {
		p.lastErr = ""
		// logged as the state changes: whatever waited for it (a release
		// after a before_release process) logs after this line
		p.log().Info("process running", zap.Int("pid", inst.pid))
	})
	defer watchMemory(p, inst)()
	runStart := time.Now()
	select {
	case <-inst.exited:
	case <-p.stopReq:
		p.terminate(inst)
		p.setState(StateStopped, nil)
		return true, false, false
	case <-p.recycleReq:
		p.terminate(inst)
		p.recycling.Store(false)
		return false, p.spec.stableRun(time.Since(runStart)), true
	}
	p.recordExit(inst)
	return false, p.spec.stableRun(time.Since(runStart)), false
}

// recordExit notes how inst ended and signals what is left of its group.
func (p *process) recordExit(inst *instance) {
	if p.spec.appServer() {
		restorePrivateLink(p.spec.Bind)
	}
	p.mu.Lock()
	p.lastExit = inst.status.String()
	if inst.status.err != nil && inst.status.code < 0 && inst.status.signal == "" {
		p.lastErr = inst.status.err.Error()
	}
	p.mu.Unlock()
	// Members of the group that outlive the leader (e.g. Gunicorn workers
	// after their master was killed) get the stop signal and may finish
	// their current request, or serve on until a new master does
	// (keepOrphans).
	if p.spec.appServer() && p.keepOrphans(inst) {
		return
	}
	if s, err := parseSignal(p.spec.StopSignal); err == nil {
		_ = signalGroup(inst.pid, s)
	}
}

// recordFailedStart keeps the program's last meaningful error line (see
// outputSummary) as last_error and logs it, once per failed start, at error
// level with the exit status.
func (p *process) recordFailedStart(inst *instance) {
	inst.drainOutput(time.Second) // the lines written just before the exit
	reason := inst.out.reason()
	fields := []zap.Field{zap.String("exit", inst.status.String()), zap.Duration("startsecs", p.spec.StartSecs)}
	if reason != "" {
		p.mu.Lock()
		p.lastErr = reason
		p.mu.Unlock()
		fields = append(fields, zap.String("error", reason))
	}
	p.log().Error("process exited before it was started", fields...)
}

// shouldRestart applies the autorestart policy to an exit after RUNNING.
func (p *process) shouldRestart(st exitInfo) bool {
	switch p.spec.Autorestart {
	case "never":
		return false
	case "unexpected":
		return st.signal != "" || !slices.Contains(p.spec.ExitCodes, st.code)
	default:
		return true
	}
}

// restartAfter counts a restart and waits before it (see backoff): the
// n-th in a row. It reports false when a stop was requested meanwhile.
func (p *process) restartAfter(n int) bool {
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	return p.backoff(n)
}

// parkUntilStop leaves an EXITED or FATAL process as it is until a stop
// is requested, then STOPPED.
func (p *process) parkUntilStop() {
	<-p.stopReq
	p.setState(StateStopped, nil)
}

// backoff waits before the n-th restart in a row (n=0: no wait). It reports
// false when a stop was requested meanwhile.
func (p *process) backoff(n int) bool {
	if n <= 0 {
		return !p.stopping()
	}
	d := backoffDelay(n, p.spec.Backoff, p.spec.BackoffMax)
	p.setState(StateBackoff, nil)
	p.log().Info("waiting before restart", zap.Duration("backoff", d))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stopReq:
		p.setState(StateStopped, nil)
		return false
	}
}

// backoffDelay is the wait before the n-th restart in a row (n >= 1): base,
// doubled for each further restart, at most limit.
func backoffDelay(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// terminate stops inst: stop signal to its group (to inst alone for a
// server whose master stops its workers, StopMaster), SIGKILL to the group if
// the group (not only inst) has not exited after StopTimeout, then waits for
// its output to drain (bounded). A launcher (`uv run`, `sh -c` without
// exec) often exits on the stop signal at once while the Gunicorn it
// started still finishes its requests: that Gunicorn gets the rest of
// StopTimeout too.
func (p *process) terminate(inst *instance) {
	p.setState(StateStopping, nil)
	// an app server closes what it has accepted but not read, and some
	// cut what they are sending: let it finish first what it was sent
	drainLeases(p, inst.pid, time.Now().Add(p.spec.StopTimeout/2))
	p.dumpBeforeStop(inst) // a stuck worker's stack (recycleGeneration)
	sig, _ := parseSignal(p.spec.StopSignal)
	p.log().Info("stopping process", zap.Int("pid", inst.pid), zap.String("signal", p.spec.StopSignal))
	send := signalGroup
	if p.spec.StopMaster { // its workers would die at once on sig
		send = signalProcess
	}
	if err := send(inst.pid, sig); err != nil {
		p.log().Debug("signal", zap.Error(err))
	}
	if !waitGroupGone(inst, time.Now().Add(p.spec.StopTimeout)) {
		// the group still exists, so its id cannot have been reused
		p.log().Warn("process did not stop in time; killing its process group", zap.Int("pid", inst.pid),
			zap.Duration("stop_timeout", p.spec.StopTimeout))
		_ = killGroup(inst.pid)
		recordKill(p, inst.pid)
		<-inst.exited
		if !waitGroupGone(inst, time.Now().Add(killWait)) {
			p.log().Error("process group still exists after SIGKILL", zap.Int("pgid", inst.pid))
		}
	}
	if p.spec.appServer() {
		restorePrivateLink(p.spec.Bind)
	}
	p.mu.Lock()
	p.lastExit = inst.status.String()
	p.mu.Unlock()
	inst.drainOutput(2 * time.Second)
	p.log().Info("process stopped", zap.Int("pid", inst.pid), zap.String("exit", inst.status.String()))
}

// waitGroupGone waits until inst has exited and so has every other member
// of its process group (the group id is inst's pid), or until deadline. It
// reports whether the group is gone.
func waitGroupGone(inst *instance, deadline time.Time) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-inst.exited:
	case <-t.C:
		return false
	}
	for groupAlive(inst.pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(groupPollInterval)
	}
	return true
}

// Interface guards
var _ error = notRunningError{}
