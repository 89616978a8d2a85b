package caddydjango

import (
	"slices"
	"testing"
)

func TestHealthOf(t *testing.T) {
	st := func(name, group, state string) ProcessStatus {
		return ProcessStatus{Name: name, Group: group, State: state}
	}
	gun := func(state string) ProcessStatus { return st(gunicornName, gunicornName, state) }
	for _, tc := range []struct {
		name     string
		statuses []ProcessStatus
		only     string
		problems []string
	}{
		{"all running", []ProcessStatus{gun(StateRunning), st("worker", "worker", StateRunning)}, "", nil},
		{"no processes", nil, "", nil},
		{"gunicorn starting", []ProcessStatus{gun(StateStarting)}, "", []string{"gunicorn is STARTING, not RUNNING"}},
		{"gunicorn stopped", []ProcessStatus{gun(StateStopped)}, "", []string{"gunicorn is STOPPED, not RUNNING"}},
		{"gunicorn fatal", []ProcessStatus{gun(StateFatal)}, "", []string{"gunicorn is FATAL"}},
		{"worker fatal", []ProcessStatus{gun(StateRunning), st("worker", "worker", StateFatal)}, "", []string{"worker is FATAL"}},
		{"replica backoff", []ProcessStatus{gun(StateRunning), st("w-0", "w", StateRunning), st("w-1", "w", StateBackoff)}, "", []string{"w-1 is BACKOFF"}},
		{"worker stopped or exited is fine", []ProcessStatus{gun(StateRunning), st("a", "a", StateStopped), st("b", "b", StateExited), st("c", "c", StateStarting)}, "", nil},
		{"both wrong", []ProcessStatus{gun(StateBackoff), st("worker", "worker", StateFatal)}, "", []string{"gunicorn is BACKOFF", "worker is FATAL"}},
		{"named running", []ProcessStatus{gun(StateFatal), st("worker", "worker", StateRunning)}, "worker", nil},
		{"named stopped", []ProcessStatus{gun(StateRunning), st("worker", "worker", StateStopped)}, "worker", []string{"worker is STOPPED, not RUNNING"}},
		{"named group", []ProcessStatus{st("w-0", "w", StateRunning), st("w-1", "w", StateExited)}, "w", []string{"w-1 is EXITED, not RUNNING"}},
		{"named replica", []ProcessStatus{st("w-0", "w", StateRunning), st("w-1", "w", StateExited)}, "w-0", nil},
		{"named missing", []ProcessStatus{gun(StateRunning)}, "nope", []string{`no process named "nope"`}},
		{"disabled gunicorn (worker-only container)", []ProcessStatus{gun(StateDisabled), st("worker", "worker", StateRunning)}, "", nil},
		{"named disabled", []ProcessStatus{gun(StateRunning), st("celery", "celery", StateDisabled)}, "celery", nil},
		{"schedule waiting for its next run", []ProcessStatus{gun(StateRunning), st("report", "report", StateScheduled)}, "report", nil},
		{"failing schedule", []ProcessStatus{gun(StateRunning), st("report", "report", StateFatal)}, "", []string{"report is FATAL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, problems := healthOf(tc.statuses, tc.only)
			if ok != (len(tc.problems) == 0) || !slices.Equal(problems, tc.problems) {
				t.Errorf("healthOf = %v, %q; want %q", ok, problems, tc.problems)
			}
		})
	}
}
