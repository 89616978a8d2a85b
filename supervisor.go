package caddydjango

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
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
)

// ProcessStatus is what `GET /django/processes` reports for one process.
type ProcessStatus struct {
	Name       string    `json:"name"`
	Group      string    `json:"group"`
	State      string    `json:"state"`
	PID        int       `json:"pid,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	Uptime     string    `json:"uptime,omitempty"`
	UptimeSecs float64   `json:"uptime_seconds"`
	Restarts   int       `json:"restarts"`
	LastExit   string    `json:"last_exit,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	Command    []string  `json:"command"`
	Essential  bool      `json:"essential,omitempty"`
}

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
	changed   chan struct{} // closed and replaced on every state change

	stopReq  chan struct{}
	stopOnce sync.Once
	launched chan struct{} // closed after the first launch attempt
	launchOK sync.Once
	done     chan struct{}
	started  atomic.Bool
	onFatal  func(*process)
}

// instance is one OS process of a supervised program.
type instance struct {
	cmd    *exec.Cmd
	pid    int
	exited chan struct{} // closed once the process is reaped
	begun  chan struct{} // closed once pid is set (or the start failed)
	status exitInfo
	// probeAddr is Gunicorn's private readiness socket.
	probeAddr string
	logs      sync.WaitGroup // output readers
	out       outputSummary  // its meaningful error lines, for last_error
}

// drainOutput waits (at most d) until the program's output was logged
// whole: its pipes close once every process of its group is gone.
func (inst *instance) drainOutput(d time.Duration) {
	drained := make(chan struct{})
	go func() { inst.logs.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(d):
	}
}

type exitInfo struct {
	code   int    // -1 when killed by a signal
	signal string // set when killed by a signal
	err    error  // wait error
}

func (e exitInfo) String() string {
	switch {
	case e.signal != "":
		return "killed by SIG" + e.signal
	case e.err != nil && e.code < 0:
		return e.err.Error()
	default:
		return fmt.Sprintf("exit status %d", e.code)
	}
}

func newProcess(s *spec, logger *zap.Logger) *process {
	p := &process{
		spec:     s,
		state:    StateStopped,
		changed:  make(chan struct{}),
		stopReq:  make(chan struct{}),
		done:     make(chan struct{}),
		launched: make(chan struct{}),
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
	if p.started.Load() || p.stopping() {
		return
	}
	p.started.Store(true)
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

// waitRunning blocks until the process is RUNNING. It fails when ctx ends or
// the process can no longer become RUNNING (FATAL, EXITED, STOPPED).
func (p *process) waitRunning(ctx context.Context) error {
	for {
		state, changed, err := p.readiness()
		if state == StateRunning || err != nil {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%s is not running yet (%s): %w", p.spec.Name, state, ctx.Err())
		}
	}
}

// readiness returns the state, a channel closed at its next change, and an
// error when the process can no longer become RUNNING.
func (p *process) readiness() (string, <-chan struct{}, error) {
	state, changed := p.snapshot()
	switch state {
	case StateFatal, StateExited:
		if reason := p.status().LastError; reason != "" {
			return state, changed, fmt.Errorf("%s is %s: %s", p.spec.Name, state, reason)
		}
		return state, changed, fmt.Errorf("%s is %s (%s)", p.spec.Name, state, p.status().LastExit)
	case StateStopped:
		if p.started.Load() && p.stopping() {
			return state, changed, fmt.Errorf("%s is stopped", p.spec.Name)
		}
	}
	return state, changed, nil
}

func (p *process) status() ProcessStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := ProcessStatus{
		Name:      p.spec.Name,
		Group:     p.spec.Group,
		State:     p.state,
		Restarts:  p.restarts,
		LastExit:  p.lastExit,
		LastError: p.lastErr,
		Command:   p.spec.Argv,
		Essential: p.spec.Essential,
	}
	if p.inst != nil && (p.state == StateStarting || p.state == StateRunning || p.state == StateStopping) {
		st.PID = p.inst.pid
		st.StartedAt = p.startedAt
		up := time.Since(p.startedAt).Truncate(time.Second)
		st.Uptime = up.String()
		st.UptimeSecs = time.Since(p.startedAt).Seconds()
	}
	return st
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
	defer p.markLaunched()
	startFailures, quickExits := 0, 0
	for {
		if p.stopping() {
			p.setState(StateStopped, nil)
			return
		}
		p.setState(StateStarting, nil)
		inst, err := p.launch()
		p.markLaunched()
		if err != nil {
			p.log().Error("cannot start process", zap.Error(err))
			p.setState(StateStarting, func() { p.lastErr = err.Error() })
			startFailures++
		} else {
			p.mu.Lock()
			p.inst, p.startedAt = inst, time.Now()
			p.mu.Unlock()
			p.log().Info("process started", zap.Int("pid", inst.pid), zap.Strings("command", p.spec.Argv))
			ok, stopped := p.awaitStarted(inst)
			if stopped {
				return
			}
			if ok {
				startFailures = 0
				p.setState(StateRunning, func() { p.lastErr = "" })
				p.log().Info("process running", zap.Int("pid", inst.pid))
				runStart := time.Now()
				select {
				case <-inst.exited:
				case <-p.stopReq:
					p.terminate(inst)
					p.setState(StateStopped, nil)
					return
				}
				p.recordExit(inst)
				if time.Since(runStart) >= max(stableRunMinimum, p.spec.StartSecs) {
					quickExits = 0
				} else {
					quickExits++
				}
				if !p.shouldRestart(inst.status) {
					p.log().Info("process exited; not restarting", zap.String("exit", inst.status.String()), zap.String("autorestart", p.spec.Autorestart))
					p.setState(StateExited, nil)
					<-p.stopReq
					p.setState(StateStopped, nil)
					return
				}
				p.log().Warn("process exited; restarting", zap.String("exit", inst.status.String()))
				p.mu.Lock()
				p.restarts++
				p.mu.Unlock()
				if !p.backoff(quickExits) {
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
			<-p.stopReq
			p.setState(StateStopped, nil)
			return
		}
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
		if !p.backoff(startFailures + quickExits) {
			return
		}
	}
}

// awaitStarted waits until inst counts as started: StartSecs passed and, for
// Gunicorn, it answered HTTP on its private probe socket. stopped reports a
// stop request (the program was stopped and the loop must end).
func (p *process) awaitStarted(inst *instance) (ok, stopped bool) {
	if p.spec.StartSecs == 0 && inst.probeAddr == "" {
		return true, false // supervisord: startsecs 0 means RUNNING at once
	}
	ready := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		t := time.NewTimer(p.spec.StartSecs)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			ready <- ctx.Err()
			return
		}
		ready <- nil
	}()
	var probe <-chan error
	if inst.probeAddr != "" {
		ch := make(chan error, 1)
		probe = ch
		go func() { ch <- probeHTTP(ctx, inst.probeAddr, p.spec.ReadyPath, p.spec.ReadyTimeout) }()
	}
	timerDone := false
	for {
		select {
		case <-inst.exited:
			p.recordExit(inst)
			p.recordFailedStart(inst)
			if p.stopping() {
				p.setState(StateStopped, nil)
				return false, true
			}
			return false, false
		case <-p.stopReq:
			p.terminate(inst)
			p.setState(StateStopped, nil)
			return false, true
		case err := <-ready:
			if err != nil {
				continue
			}
			timerDone = true
			ready = nil
			if probe == nil {
				return true, false
			}
		case err := <-probe:
			probe = nil
			if err != nil {
				p.setState(StateStarting, func() { p.lastErr = err.Error() })
				p.log().Error("gunicorn did not answer in time; stopping it", zap.Error(err))
				p.terminate(inst)
				return false, p.stopping()
			}
			if timerDone {
				return true, false
			}
		}
		if timerDone && probe == nil {
			return true, false
		}
	}
}

// probeHTTP waits until an HTTP server answers at addr (any status counts).
// Without a path it sends a request line Gunicorn answers itself (400 Bad
// Request) once a worker has loaded the app and accepts: Django sees nothing.
func probeHTTP(ctx context.Context, addr, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	try := func() error { return probeRawOnce(ctx, addr) }
	if path != "" {
		client := &http.Client{
			Transport: &http.Transport{DisableKeepAlives: true},
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
		try = func() error { return probeGetOnce(ctx, client, addr, path) }
	}
	delay := 20 * time.Millisecond
	for {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no HTTP answer within %s: %v", timeout, err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// probeGetOnce sends GET path (Host: localhost) and reads the answer.
func probeGetOnce(ctx context.Context, client *http.Client, addr, path string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	req.Host = "localhost"
	req.Header.Set("User-Agent", "caddy-django readiness probe")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return nil
}

// probeRawOnce sends an invalid request line and wants an HTTP answer.
func probeRawOnce(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("caddy-django readiness probe\r\n\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "HTTP/" {
		return fmt.Errorf("not an HTTP answer: %q", buf)
	}
	return nil
}

func (p *process) recordExit(inst *instance) {
	if p.spec.gunicorn() {
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
	// their current request.
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

// backoff waits before the n-th restart in a row (n=0: no wait). It reports
// false when a stop was requested meanwhile.
func (p *process) backoff(n int) bool {
	if n <= 0 {
		return !p.stopping()
	}
	d := p.spec.Backoff
	for i := 1; i < n && d < p.spec.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, p.spec.BackoffMax)
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

// terminate stops inst: stop signal to its group, SIGKILL to the group if
// the group (not only inst) has not exited after StopTimeout, then waits for
// its output to drain (bounded). A launcher (`uv run`, `sh -c` without
// exec) often exits on the stop signal at once while the Gunicorn it
// started still finishes its requests: that Gunicorn gets the rest of
// StopTimeout too.
func (p *process) terminate(inst *instance) {
	p.setState(StateStopping, nil)
	sig, _ := parseSignal(p.spec.StopSignal)
	p.log().Info("stopping process", zap.Int("pid", inst.pid), zap.String("signal", p.spec.StopSignal))
	if err := signalGroup(inst.pid, sig); err != nil {
		p.log().Debug("signal", zap.Error(err))
	}
	if !waitGroupGone(inst, time.Now().Add(p.spec.StopTimeout)) {
		// the group still exists, so its id cannot have been reused
		p.log().Warn("process did not stop in time; killing its process group", zap.Duration("stop_timeout", p.spec.StopTimeout))
		_ = killGroup(inst.pid)
		<-inst.exited
		if !waitGroupGone(inst, time.Now().Add(killWait)) {
			p.log().Error("process group still exists after SIGKILL", zap.Int("pgid", inst.pid))
		}
	}
	if p.spec.gunicorn() {
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

// launch starts the program from an OS thread that stays locked for the
// program's lifetime (Linux's parent-death signal is tied to that thread).
func (p *process) launch() (*instance, error) {
	inst := &instance{exited: make(chan struct{}), begun: make(chan struct{})}
	cmd := exec.Command(p.spec.Argv[0], p.spec.Argv[1:]...)
	cmd.Env = p.spec.Env
	cmd.Dir = p.spec.Dir
	if err := configureCmd(cmd, p.spec.User); err != nil {
		return nil, err
	}

	var closeAfterStart []io.Closer
	defer func() {
		for _, c := range closeAfterStart {
			c.Close()
		}
	}()
	if p.spec.gunicorn() {
		sock, err := acquireSocket(p.spec.Bind)
		if err != nil {
			return nil, err
		}
		defer releaseSocket(p.spec.Bind)
		f, err := sock.file()
		if err != nil {
			return nil, err
		}
		closeAfterStart = append(closeAfterStart, f)
		probe, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("readiness socket: %v", err)
		}
		closeAfterStart = append(closeAfterStart, probe)
		pf, err := probe.(*net.TCPListener).File()
		if err != nil {
			return nil, err
		}
		closeAfterStart = append(closeAfterStart, pf)
		inst.probeAddr = probe.Addr().String()
		cmd.ExtraFiles = []*os.File{f, pf}
	}

	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		closeAfterStart = append(closeAfterStart, w)
		if stream == "stdout" {
			cmd.Stdout = w
		} else {
			cmd.Stderr = w
		}
		inst.logs.Add(1)
		go func() {
			defer inst.logs.Done()
			defer r.Close()
			p.pump(r, stream, inst)
		}()
	}

	startErr := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, after the
		// program has been reaped.
		runtime.LockOSThread()
		if err := startCmd(cmd); err != nil {
			close(inst.begun)
			startErr <- err
			return
		}
		inst.pid = cmd.Process.Pid
		inst.cmd = cmd
		dismiss := startWatchdog(inst.pid)
		close(inst.begun)
		startErr <- nil
		inst.status = waitCmd(cmd)
		close(inst.exited)
		// the group may outlive its leader (see recordExit); keep guarding
		// it until its output pipes close, i.e. every member is gone
		go func() { inst.logs.Wait(); dismiss() }()
	}()
	if err := <-startErr; err != nil {
		// the pipes' write ends close in the deferred func: readers end
		return nil, err
	}
	return inst, nil
}

// pump turns each output line into a log entry: error level for Python
// tracebacks and Gunicorn's [ERROR] and [CRITICAL] lines, info for the
// others (see lineClassifier). Lines up to 1 MiB stay whole; a longer line
// is logged in 1 MiB parts marked partial.
func (p *process) pump(r io.Reader, stream string, inst *instance) {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	var lines lineClassifier
	emit := func(line []byte, partial bool) {
		// pid is read after start: the reader may start before Start returns
		<-inst.begun
		fields := []zap.Field{zap.String("stream", stream), zap.Int("pid", inst.pid)}
		if partial {
			fields = append(fields, zap.Bool("partial", true))
		}
		text := string(line)
		kind := lines.classify(text)
		inst.out.note(text, kind, stream == "stderr")
		if kind == lineInfo {
			p.output().Info(text, fields...)
		} else {
			p.output().Error(text, fields...)
		}
	}
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			line := buf[:len(buf)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			emit(line, false)
			buf = buf[:0]
		case errors.Is(err, bufio.ErrBufferFull):
			if len(buf) >= maxLogLineBytes {
				emit(buf, true)
				buf = buf[:0]
			}
		default:
			if len(buf) > 0 {
				emit(buf, false)
			}
			return
		}
		if cap(buf) > 4*maxLogLineBytes {
			buf = nil
		}
	}
}
