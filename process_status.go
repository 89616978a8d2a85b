package caddydjango

import "time"

// ProcessStatus is what `GET /django/processes` (and `caddy django status`)
// reports for one process.
type ProcessStatus struct {
	// Name is the process's name: an app server's (`gunicorn`, `uvicorn`,
	// or its `name`), a process's name, or
	// NAME-i for replica i of a process with replicas.
	Name string `json:"name"`

	// Group is the name of the configured process a replica belongs to
	// (the process's own name when it has no replicas). The admin API's
	// NAME may be a group: the action applies to every replica.
	Group string `json:"group"`

	// Server is the kind of app server (gunicorn, uvicorn, hypercorn,
	// daphne, uwsgi) for an app server, empty for other processes.
	Server string `json:"server,omitempty"`

	// State is the supervision state, as supervisord names it: STOPPED,
	// STARTING, RUNNING, BACKOFF, STOPPING, EXITED or FATAL; DISABLED for an
	// entry with `enabled false`.
	State string `json:"state"`

	// PID is the program's process id (the leader of its process group)
	// while it is STARTING, RUNNING or STOPPING.
	PID int `json:"pid,omitempty"`

	// StartedAt is when the current OS process was started (with PID).
	StartedAt time.Time `json:"started_at,omitzero"`

	// Uptime is how long the current OS process has run, in whole seconds
	// as a Go duration, e.g. "1h2m3s" (with PID).
	Uptime string `json:"uptime,omitempty"`

	// UptimeSecs is Uptime in seconds, with fractions; 0 without a PID.
	UptimeSecs float64 `json:"uptime_seconds"`

	// Restarts counts automatic restarts (after an exit or a failed start)
	// and restarts through the admin API or a deploy.
	Restarts int `json:"restarts"`

	// LastExit is how the last OS process ended, e.g. "exit status 1" or
	// "killed by SIGTERM".
	LastExit string `json:"last_exit,omitempty"`

	// LastError says why the process is not RUNNING when something went
	// wrong: the program's last meaningful error line after a failed start
	// (a Python exception, a Gunicorn [ERROR] line), a launch error, a
	// failed readiness probe or a failed release command. A successful
	// start clears it.
	LastError string `json:"last_error,omitempty"`

	// Socket is, for an app server that serves a socket of its own per
	// generation (all but uvicorn), that socket's address (127.0.0.1:PORT):
	// django_files sends its requests there; the bind serves other clients.
	Socket string `json:"socket,omitempty"`

	// Command is the program and its arguments as started (for an app
	// server, with the socket arguments Caddy adds, e.g. --bind fd://3).
	Command []string `json:"command"`

	// Essential is true when Caddy exits if this process goes FATAL.
	Essential bool `json:"essential,omitempty"`

	// Schedule is a schedule's cron spec (only for schedules, which are
	// SCHEDULED between runs and RUNNING, with PID, during one).
	Schedule string `json:"schedule,omitempty"`

	// NextRun is when a schedule runs next (not while it is stopped).
	NextRun time.Time `json:"next_run,omitzero"`

	// LastRun is when a schedule's last run started.
	LastRun time.Time `json:"last_run,omitzero"`

	// LastDuration is how long a schedule's last finished run took, e.g.
	// "1.204s"; its LastExit says how it ended.
	LastDuration string `json:"last_duration,omitempty"`

	// Skipped counts a schedule's runs skipped because the previous run was
	// still going (runs never overlap).
	Skipped int `json:"skipped,omitempty"`

	// Killed is set in the answers to restart, stop and deploy when this
	// action stopped the process and it did not exit within its
	// stop_timeout: its process group was SIGKILLed (stop_report.go).
	Killed *KilledStop `json:"killed,omitempty"`

	// Once is true for a schedule with `once`: each scheduled time runs in
	// one container of those that share the lock. RanElsewhere counts the
	// times another container ran; LockErrors the runs skipped because the
	// lock could not be reached (never run twice).
	Once         bool `json:"once,omitempty"`
	RanElsewhere int  `json:"ran_elsewhere,omitempty"`
	LockErrors   int  `json:"lock_errors,omitempty"`
	// WatchError says why the last restart after a file change (`watch`)
	// did not replace this generation: the new code's error line, with
	// where it was raised, e.g. "SyntaxError: invalid syntax
	// (/app/shop/views.py, line 12)". This generation keeps serving; a
	// restart that succeeds replaces it, and the error with it.
	WatchError string `json:"watch_error,omitempty"`
	// MaxMemory is the memory limit enforced (max_memory), in bytes: a
	// share of the container's memory as resolved when the config started.
	// Absent without a limit.
	MaxMemory int64 `json:"max_memory,omitempty"`

	// Recycles counts the recycles of the process or of one of its workers
	// (recycle.go): over max_memory, or holding a request that timed out
	// (django_files `on_timeout recycle`). A recycle of the whole process
	// counts as a restart too.
	Recycles int `json:"recycles,omitempty"`

	// LastRecycle says what the last recycle was, e.g. "memory: worker
	// 1234 used 530 MiB, over max_memory 512 MiB".
	LastRecycle string `json:"last_recycle,omitempty"`

	// LastRecycleAt is when the last recycle happened.
	LastRecycleAt time.Time `json:"last_recycle_at,omitzero"`
}

func (p *process) status() ProcessStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := ProcessStatus{
		Name:       p.spec.Name,
		Group:      p.spec.Group,
		State:      p.state,
		Restarts:   p.restarts,
		LastExit:   p.lastExit,
		LastError:  p.lastErr,
		Command:    p.spec.Argv,
		WatchError: p.watchErr,
		Essential:  p.spec.Essential,
	}
	if p.spec.appServer() {
		st.Server = p.spec.serverWord()
	}

	if p.inst != nil && (p.state == StateStarting || p.state == StateRunning || p.state == StateStopping) {
		st.PID = p.inst.pid
		st.StartedAt = p.startedAt
		up := time.Since(p.startedAt).Truncate(time.Second)
		st.Uptime = up.String()
		st.UptimeSecs = time.Since(p.startedAt).Seconds()
		if p.gen != nil {
			st.Socket = p.gen.addr
		}
	}
	p.scheduleStatus(&st)
	p.recycleStatus(&st)
	return st
}
