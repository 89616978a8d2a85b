package caddydjango

import (
	"fmt"
	"sync"
	"time"
)

// Stops that had to end with SIGKILL: the process did not exit within its
// stop_timeout after its stop signal, so whatever it was doing was cut off
// (a task worker's job, a request). terminate records each one; the admin
// API's answers to restart, stop and deploy (`caddy django restart`,
// `stop`, `reload`) name the processes this action killed
// (ProcessStatus.Killed), and the CLI prints them.

// KilledStop is a stop that ended with SIGKILL.
type KilledStop struct {
	// PID is the killed process's id (the leader of the killed group).
	PID int `json:"pid"`

	// StopSignal is the signal it did not exit on in time, e.g. "TERM".
	StopSignal string `json:"stop_signal"`

	// StopTimeout is how long it was given after that signal, e.g. "10s".
	StopTimeout string `json:"stop_timeout"`

	// At is when its process group was killed.
	At time.Time `json:"at"`
}

// killedStops keeps the latest stops that ended with SIGKILL, by process
// name, across config reloads.
var killedStops = struct {
	sync.Mutex
	recent []namedKill
}{}

type namedKill struct {
	name string
	KilledStop
}

const killedStopsKept = 64

// recordKill notes that p's process pid was SIGKILLed after its
// stop_timeout.
func recordKill(p *process, pid int) {
	killedStops.Lock()
	defer killedStops.Unlock()
	if len(killedStops.recent) >= killedStopsKept {
		killedStops.recent = killedStops.recent[1:]
	}
	killedStops.recent = append(killedStops.recent, namedKill{p.spec.Name, KilledStop{
		PID: pid, StopSignal: p.spec.StopSignal, StopTimeout: p.spec.StopTimeout.String(), At: time.Now(),
	}})
}

// killedSince returns the latest stop of the process named name that ended
// with SIGKILL at or after since, or nil.
func killedSince(name string, since time.Time) *KilledStop {
	killedStops.Lock()
	defer killedStops.Unlock()
	for i := len(killedStops.recent) - 1; i >= 0; i-- {
		k := killedStops.recent[i]
		if k.At.Before(since) {
			break
		}
		if k.name == name {
			return &k.KilledStop
		}
	}
	return nil
}

// markKilled sets Killed on the statuses of the processes whose stop since
// (an admin action's start) ended with SIGKILL.
func markKilled(sts []ProcessStatus, since time.Time) []ProcessStatus {
	for i := range sts {
		sts[i].Killed = killedSince(sts[i].Name, since)
	}
	return sts
}

// killedLine says, for people, that a process had to be killed.
func killedLine(name string, k *KilledStop) string {
	return fmt.Sprintf("%s (pid %d) did not stop within its stop_timeout (%s) after SIG%s and was killed (SIGKILL): what it was doing was cut off",
		name, k.PID, k.StopTimeout, k.StopSignal)
}
