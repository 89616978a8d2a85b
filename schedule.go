package caddydjango

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/robfig/cron/v3"
	"go.uber.org/zap"
)

// Scheduled jobs (`schedule` in the django block): a command run on a cron
// schedule. A schedule is a registry entry like a process (same key, same
// timing and running job across reloads); its supervision loop waits for
// the next due time, runs the job, and never runs two at once.

// StateScheduled: a schedule waits for its next run.
const StateScheduled = "SCHEDULED"

// ScheduleConfig is a command run on a schedule, e.g. `clearsessions`.
type ScheduleConfig struct {
	// Name identifies the schedule in logs (logger `django.NAME`), status
	// and the admin API, like a process name.
	Name string `json:"name"`

	// Spec is when it runs: a standard 5-field cron expression (minute hour
	// day-of-month month day-of-week) in the container's time zone (`TZ`
	// honoured, or a `TZ=Zone ` / `CRON_TZ=Zone ` prefix), or @hourly,
	// @daily, @weekly, @monthly, @yearly, @every <duration>.
	Spec string `json:"spec"`

	// Command is the program and its arguments.
	Command []string `json:"command"`

	// Timeout bounds one run: then it gets its stop signal, and SIGKILL of
	// its process group after StopTimeout. Default: no limit.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// Env is added to the app's environment for this job only.
	Env map[string]string `json:"env,omitempty"`

	// Dir is the working directory, relative to the app's root.
	Dir string `json:"dir,omitempty"`

	// User runs the job as this user (Caddy must run as root).
	User string `json:"user,omitempty"`

	// Enabled, when false, keeps the schedule from running (DISABLED).
	Enabled *bool `json:"enabled,omitempty"`

	// StopSignal is sent to the job's process group on timeout or stop.
	// Default: TERM.
	StopSignal string `json:"stop_signal,omitempty"`

	// StopTimeout is how long a stopped job's group may take to exit before
	// it is killed. Default: 10s.
	StopTimeout caddy.Duration `json:"stop_timeout,omitempty"`

	// Once runs each scheduled time in one container of those that share
	// the django app's `lock`: the first to claim it runs it, the others
	// skip it (a run of `caddy django start` is not claimed). An @every
	// period is then counted from the Unix epoch, so that containers agree
	// on the times. With the lock unreachable, the run is skipped (logged
	// at error, counted), never doubled. See clusterlock.go.
	Once bool `json:"once,omitempty"`
}

// conflictError: the action conflicts with the entry's state (HTTP 409).
type conflictError string

func (e conflictError) Error() string { return string(e) }

// parseSchedule parses a schedule's spec with robfig/cron's standard parser.
func parseSchedule(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v", spec, err)
	}
	if s.Next(time.Now()).IsZero() { // e.g. "0 0 30 2 *": robfig/cron looks 5 years ahead
		return nil, fmt.Errorf("schedule %q never runs", spec)
	}
	return s, nil
}

// spec resolves the schedule.
func (c *ScheduleConfig) spec(a *App) (*spec, error) {
	if len(c.Command) == 0 {
		return nil, errors.New("missing command")
	}
	if _, err := parseSchedule(c.Spec); err != nil {
		return nil, err
	}
	if c.Timeout < 0 {
		return nil, errors.New("timeout must not be negative")
	}
	opts := ProcessOptions{Env: c.Env, Dir: c.Dir, User: c.User, Enabled: c.Enabled, StopSignal: c.StopSignal, StopTimeout: c.StopTimeout}
	s, err := opts.resolve(a, c.Name, c.Name, c.Command, 0)
	if err != nil {
		return nil, err
	}
	s.Schedule = c.Spec
	s.Timeout = time.Duration(c.Timeout)
	if err := a.resolveOnce(c, s); err != nil {
		return nil, err
	}
	s.computeKey()
	return s, nil
}

// provisionSchedules resolves the schedules; seen holds the names in use.
func (a *App) provisionSchedules(seen map[string]bool) error {
	for i, c := range a.Schedules {
		if c == nil || !processNameRE.MatchString(c.Name) {
			return fmt.Errorf("schedules[%d]: a name of letters, digits, '-' and '_' is required", i)
		}
		if seen[c.Name] || c.Name == "release" {
			return fmt.Errorf("schedule %q: name already used; names must be unique", c.Name)
		}
		seen[c.Name] = true
		s, err := c.spec(a)
		if err != nil {
			return fmt.Errorf("schedule %q: %v", c.Name, err)
		}
		a.specs = append(a.specs, s)
	}
	return nil
}

// scheduleState is a schedule's record of its runs (under process.mu).
type scheduleState struct {
	next     time.Time
	lastRun  time.Time
	lastTook time.Duration
	skipped  int
	once     onceState
}

// runSchedule is a schedule's supervision loop: it runs the job when due
// or asked (trigger), skips a due run while the last one still runs,
// enforces the timeout, and stops the job when the schedule is stopped.
func (p *process) runSchedule() {
	defer close(p.done)
	p.markLaunched()
	sched, err := parseSchedule(p.spec.Schedule)
	if err != nil { // refused at provision; kept for safety
		p.setState(StateFatal, func() { p.lastErr = err.Error() })
		p.parkUntilStop()
		return
	}
	timer := time.NewTimer(0)
	<-timer.C
	plan := func() {
		next := sched.Next(time.Now())
		if p.spec.Once {
			next = onceNext(sched, time.Now())
		}
		p.mu.Lock()
		p.sched.next = next
		p.mu.Unlock()
		if !next.IsZero() { // zero: none within 5 years; wait for run-now or stop
			timer.Reset(time.Until(next))
		}
	}
	plan()
	p.setState(StateScheduled, nil)
	var job *instance
	var deadline <-chan time.Time
	for {
		var exited <-chan struct{}
		if job != nil {
			exited = job.exited
		}
		select {
		case <-timer.C:
			p.mu.Lock()
			slot := p.sched.next
			p.mu.Unlock()
			plan()
			if job != nil {
				p.mu.Lock()
				p.sched.skipped++
				p.mu.Unlock()
				lockMetrics.skipped.WithLabelValues(p.spec.Name, "overlap").Inc()
				p.log().Warn("scheduled run skipped: the previous run is still going", zap.Int("pid", job.pid))
				continue
			}
			if p.spec.Once && !p.claimSlot(slot) {
				continue
			}
			job, deadline, _ = p.startJob()
		case reply := <-p.trigger:
			if job != nil {
				reply <- conflictError(fmt.Sprintf("%s is already running (pid %d); runs never overlap", p.spec.Name, job.pid))
				continue
			}
			var err error
			job, deadline, err = p.startJob()
			reply <- err
		case <-exited:
			p.recordExit(job)
			p.finishJob(job, "")
			job, deadline = nil, nil
		case <-deadline:
			p.log().Warn("scheduled job timed out; stopping it", zap.Int("pid", job.pid), zap.Duration("timeout", p.spec.Timeout))
			p.terminate(job)
			p.finishJob(job, fmt.Sprintf("timed out after %s", p.spec.Timeout))
			job, deadline = nil, nil
		case <-p.stopReq:
			timer.Stop()
			if job != nil {
				p.terminate(job)
				p.finishJob(job, "")
			}
			p.setState(StateStopped, nil)
			return
		}
	}
}

// startJob launches one run; deadline fires at its timeout (nil: none).
func (p *process) startJob() (*instance, <-chan time.Time, error) {
	inst, err := p.launch()
	now := time.Now()
	if err != nil {
		p.log().Error("cannot start scheduled job", zap.Error(err))
		p.setState(StateScheduled, func() {
			p.sched.lastRun, p.sched.lastTook = now, 0
			p.lastExit, p.lastErr = "", err.Error()
		})
		return nil, nil, err
	}
	p.setState(StateRunning, func() {
		p.inst, p.startedAt, p.sched.lastRun = inst, now, now
		p.lastErr = ""
	})
	p.log().Info("scheduled job started", zap.Int("pid", inst.pid), zap.Strings("command", p.spec.Argv))
	var deadline <-chan time.Time
	if p.spec.Timeout > 0 {
		deadline = time.After(p.spec.Timeout)
	}
	return inst, deadline, nil
}

// finishJob records how a run ended (why: set when it was cut short).
func (p *process) finishJob(inst *instance, why string) {
	inst.drainOutput(time.Second)
	p.mu.Lock()
	took := time.Since(p.startedAt)
	p.mu.Unlock()
	exit := inst.status.String()
	if why != "" {
		exit = why + " (" + exit + ")"
	}
	failed := why != "" || inst.status.code != 0 || inst.status.signal != ""
	p.setState(StateScheduled, func() {
		p.sched.lastTook = took
		p.lastExit = exit
		if failed {
			p.lastErr = inst.out.reason()
		}
	})
	fields := []zap.Field{zap.Int("pid", inst.pid), zap.String("exit", exit), zap.Duration("took", took)}
	if failed {
		p.log().Error("scheduled job failed", fields...)
	} else {
		p.log().Info("scheduled job done", fields...)
	}
}

// runNow asks the schedule's loop for a run now and waits until it started.
func (p *process) runNow(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case p.trigger <- reply:
	case <-p.done:
		return notRunningError{p.spec.Name, StateStopped}
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startSchedule (`caddy django start <schedule>`) resumes a stopped
// schedule and runs its job now.
func (a *App) startSchedule(ctx context.Context, e *entry) error {
	old := e.proc()
	if !old.started.Load() {
		old.start()
	} else if old.stopping() {
		next := a.successor(old, 0)
		e.swap(next)
		next.start()
	}
	return e.proc().runNow(ctx)
}

// scheduleStatus adds a schedule's fields to st (p.mu held).
func (p *process) scheduleStatus(st *ProcessStatus) {
	if p.spec.Schedule == "" {
		return
	}
	st.Schedule = p.spec.Schedule
	st.LastRun = p.sched.lastRun
	if p.sched.lastTook > 0 {
		st.LastDuration = p.sched.lastTook.Round(time.Millisecond).String()
	}
	st.Skipped = p.sched.skipped
	p.onceStatus(st)
	if p.state != StateStopped && p.state != StateDisabled {
		st.NextRun = p.sched.next
	}
}

// scheduleCell is the status table's last column for a schedule: its next
// run and how the last one went.
func scheduleCell(s ProcessStatus) string {
	var parts []string
	if !s.NextRun.IsZero() {
		parts = append(parts, "next "+s.NextRun.Local().Format("2006-01-02 15:04:05"))
	}
	if !s.LastRun.IsZero() {
		last := "last " + s.LastRun.Local().Format("2006-01-02 15:04:05")
		if s.LastDuration != "" {
			last += " (" + s.LastDuration + ")"
		}
		if s.LastExit != "" {
			last += " " + s.LastExit
		}
		parts = append(parts, last)
	}
	parts = append(parts, onceCell(s)...)
	if s.LastError != "" {
		parts = append(parts, s.LastError)
	}
	return cell(strings.Join(parts, "; "))
}

// UnmarshalCaddyfile sets up a schedule from a `schedule` segment of the
// django option: schedule <name> <spec> <command...> { timeout, once, env,
// dir, user, enabled, stop_signal, stop_timeout }.
func (c *ScheduleConfig) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "schedule"
	args := d.RemainingArgs()
	if len(args) < 3 {
		return d.Err(`schedule needs a name, a cron spec and a command, e.g. schedule clearsessions "0 3 * * *" python manage.py clearsessions`)
	}
	c.Name, c.Spec, c.Command = args[0], args[1], args[2:]
	if !processNameRE.MatchString(c.Name) {
		return d.Errf("schedule name %q: use letters, digits, '-' and '_'", c.Name)
	}
	if _, err := parseSchedule(c.Spec); err != nil {
		return d.Errf("%v (want 5 fields: minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, @monthly, @every <duration>; quote it)", err)
	}
	for d.NextBlock(0) {
		var o ProcessOptions
		switch opt := d.Val(); opt {
		case "timeout":
			if err := durationArg(d, &c.Timeout, 0); err != nil {
				return err
			}
			continue
		case "once":
			if d.NextArg() {
				return d.Errf("once takes no value, got %q", d.Val())
			}
			c.Once = true
			continue
		case "env", "dir", "user", "enabled", "stop_signal", "stop_timeout":
			o = ProcessOptions{Env: c.Env}
			if err := o.unmarshalOption(d, ""); err != nil {
				return err
			}
		case "watch":
			return d.Err("watch is for app servers and processes: a schedule runs its command anew each time, with the code as it is then")
		default:
			return d.Errf("unknown schedule option %q (want timeout, once, env, dir, user, enabled, stop_signal or stop_timeout)", opt)
		}
		c.Env = o.Env
		c.Dir = cmp.Or(o.Dir, c.Dir)
		c.User = cmp.Or(o.User, c.User)
		c.StopSignal = cmp.Or(o.StopSignal, c.StopSignal)
		if o.Enabled != nil {
			c.Enabled = o.Enabled
		}
		if o.StopTimeout != 0 {
			c.StopTimeout = o.StopTimeout
		}
	}
	return nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*ScheduleConfig)(nil)
	_ error                 = conflictError("")
)
