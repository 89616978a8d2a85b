package caddydjango

import (
	"testing"
	"time"

	"go.uber.org/zap"
)

// Tests of recycle.go's decisions, in process.

// TestRecyclesWorkers: which app servers replace one worker alone (its
// master starts another) and which get a new generation.
func TestRecyclesWorkers(t *testing.T) {
	for _, tc := range []struct {
		server string
		args   []string
		want   bool
	}{
		{"gunicorn", nil, true},
		{"gunicorn", []string{"--worker-class", "gthread"}, true},
		{"gunicorn", []string{"-k", "uvicorn.workers.UvicornWorker"}, false},
		{"uwsgi", nil, true},
		{"uvicorn", nil, false},
		{"hypercorn", nil, false},
		{"daphne", nil, false},
	} {
		s := &spec{Server: tc.server, Argv: append([]string{tc.server}, tc.args...)}
		if tc.server == gunicornName {
			s.Server = ""
		}
		if got := s.recyclesWorkers(); got != tc.want {
			t.Errorf("%s %v: recyclesWorkers = %v, want %v", tc.server, tc.args, got, tc.want)
		}
	}
}

// TestRecycleEventString: what status shows of a recycle.
func TestRecycleEventString(t *testing.T) {
	for ev, want := range map[recycleEvent]string{
		{reason: recycleMemory, worker: 42, rss: 530 << 20, limit: 512 << 20}: "memory: worker 42 used 530 MiB, over max_memory 512 MiB",
		{reason: recycleMemory, rss: 3 << 30, limit: 2 << 30}:                 "memory: the process used 3.0 GiB, over max_memory 2.0 GiB",
		{reason: recycleTimeout, worker: 7, timeout: 30 * time.Second}:        "timeout: worker 7 held a request past 30s",
	} {
		if got := ev.String(); got != want {
			t.Errorf("%+v: %q, want %q", ev, got, want)
		}
	}
}

// TestMayRecycleBacksOff: a unit recycled right after it started waits
// for the backoff after the last recycle (1s, then 2s, …); one that had
// grown (not quick) is recycled at once and starts the backoff over.
func TestMayRecycleBacksOff(t *testing.T) {
	p := newProcess(&spec{Name: "web", Backoff: time.Second, BackoffMax: 30 * time.Second, StartSecs: time.Second}, zap.NewNop())
	if !p.mayRecycle(1, true) {
		t.Fatal("the first quick recycle waited")
	}
	p.rec.lastAt = time.Now()
	if p.mayRecycle(2, true) {
		t.Fatal("a second quick recycle right after the first did not wait")
	}
	p.rec.lastAt = time.Now().Add(-1100 * time.Millisecond)
	if p.mayRecycle(2, true) {
		t.Fatal("the second quick recycle waited 1s only; want 2s (doubled)")
	}
	p.rec.lastAt = time.Now().Add(-2100 * time.Millisecond)
	if !p.mayRecycle(2, true) {
		t.Fatal("the second quick recycle still waits after 2s")
	}
	if !p.mayRecycle(3, false) || p.rec.quick != 0 {
		t.Fatalf("a unit that grew waited or kept the backoff (quick %d)", p.rec.quick)
	}
}
