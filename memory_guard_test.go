package caddydjango

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of max_memory (memory_guard.go, recycle.go): a Django
// view that leaks under a load of POSTs gets its worker recycled by its
// master (Gunicorn), or its generation replaced (uvicorn with workers,
// daphne), with no failed request and its memory bounded; a process over
// its limit is restarted gracefully, and one over it from its start backs
// off as a crash loop does.

// memoryLimitTest is the limit the app servers get in these tests.
const memoryLimitTest = 150 << 20

// leakCases are the app servers tested: each worker (or the one process)
// keeps 2 MB per POST /leak/.
//
// A generation keeps serving (and growing) until the new one serves, for
// as long as that takes to boot (seconds, more on a busy machine): its
// load pauses longer per request, so that the test's leak (tens of MB/s,
// where a real one takes hours) does not outgrow the bound meanwhile.
var leakCases = []struct {
	title, name, entry string
	workers            int
	// perWorker: the worker over the limit is recycled alone, by its
	// master (same master PID); else a new generation replaces it
	perWorker bool
}{
	{"gunicorn 2 workers", "gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\tmax_memory 150MiB\n\t\t}", 2, true},
	{"gunicorn 1 worker", "gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\tmax_memory 150MiB\n\t\t}", 1, true},
	{"uwsgi 2 workers", "uwsgi", "uwsgi demo.wsgi:application {\n\t\t\tcommand /usr/bin/uwsgi --plugin python3\n\t\t\tmax_memory 150MiB\n\t\t}", 2, true},
	{"uvicorn 2 workers", "uvicorn", "uvicorn demo.asgi:application {\n\t\t\tmax_memory 150MiB\n\t\t}", 2, false},
	{"daphne", "daphne", "daphne demo.asgi:application {\n\t\t\tcommand /usr/bin/daphne\n\t\t\tmax_memory 150MiB\n\t\t}", 0, false},
}

// TestMaxMemoryRecyclesUnderLoad: under a load of POSTs to a view that
// leaks, the app server is recycled over and over with no failed request,
// its processes never grow far past the limit, and status, the metric and
// the log show each recycle.
func TestMaxMemoryRecyclesUnderLoad(t *testing.T) {
	for _, tc := range leakCases {
		t.Run(tc.title, func(t *testing.T) {
			t.Parallel()
			s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
				return appServerConfig(s, admin, tc.name, tc.entry, tc.workers, "")
			})
			first := s.waitState(tc.name, StateRunning, 90*time.Second)
			if first.MaxMemory != memoryLimitTest {
				t.Fatalf("status max_memory = %d, want %d", first.MaxMemory, memoryLimitTest)
			}
			peak := sampleRSS(t, s, tc.name)
			want, pause := 2, "0.25"
			if tc.perWorker {
				want, pause = 3, "0.1"
			}
			// under way once 10 requests are answered (daphne answers about
			// 4 a second on a busy machine)
			l := startLoadOpts(testkit.Clients{Method: http.MethodPost, Body: []byte("x=1")}, s.url("/leak/?mb=2&pause="+pause), false)
			waitFor(t, 60*time.Second, func() bool { return l.total.Load() >= 10 }, "the load under way")
			waitFor(t, 240*time.Second, func() bool { return s.statuses()[tc.name].Recycles >= want }, fmt.Sprintf("%d recycles", want))
			after := l.total.Load() + 50
			waitFor(t, 120*time.Second, func() bool { return l.total.Load() >= after }, "requests after the recycles")
			l.halt()
			if n := l.failed.Load(); n != 0 {
				t.Errorf("%d of %d requests failed during the recycles: %v", n, l.total.Load(), l.errors)
			} else {
				t.Logf("0 of %d requests failed during %d recycles", l.total.Load(), s.statuses()[tc.name].Recycles)
			}
			max := peak()

			st := s.statuses()[tc.name]
			if !tc.perWorker { // the last recycle's generation may still be booting
				waitFor(t, 90*time.Second, func() bool {
					st = s.statuses()[tc.name]
					return st.Restarts >= want && st.State == StateRunning
				}, fmt.Sprintf("%d generations replaced", want))
			}
			if tc.perWorker && (st.PID != first.PID || st.Restarts != 0) {
				t.Errorf("workers recycled by their master: want the same master %d and no restart, got %d with %d restarts", first.PID, st.PID, st.Restarts)
			}
			if !tc.perWorker && (st.PID == first.PID || st.Restarts < want) {
				t.Errorf("generations replaced: want a new master and %d restarts, got %d (was %d), %d restarts", want, st.PID, first.PID, st.Restarts)
			}
			if !strings.HasPrefix(st.LastRecycle, "memory: ") || st.LastRecycleAt.IsZero() {
				t.Errorf("status last_recycle %q at %v: want the memory recycle", st.LastRecycle, st.LastRecycleAt)
			}
			// bounded: checked every 2s, a worker grows past the limit by
			// what it leaks meanwhile (and while the one before it
			// retires); a generation, until its successor has booted
			slack := int64(150 << 20)
			if !tc.perWorker {
				slack = 250 << 20
			}
			if max > memoryLimitTest+slack {
				t.Errorf("a process of %s reached %d MiB: want at most the limit (%d MiB) + %d MiB", tc.name, max>>20, memoryLimitTest>>20, slack>>20)
			} else {
				t.Logf("largest process seen: %d MiB (limit %d MiB)", max>>20, memoryLimitTest>>20)
			}
			metric := fmt.Sprintf(`caddy_django_process_recycles_total{process="%s",reason="memory"}`, tc.name)
			if got := s.scrape()[metric]; got < float64(want) {
				t.Errorf("%s = %v, want at least %d", metric, got, want)
			}
			logged := s.entries(func(e logEntry) bool {
				return e.str("level") == "warn" && e.str("process") == tc.name && e.str("reason") == "memory"
			})
			if len(logged) < want {
				t.Fatalf("%d recycles logged at warn, want %d", len(logged), want)
			}
			for _, e := range logged {
				if e.num("rss") <= memoryLimitTest || e.num("max_memory") != memoryLimitTest || e.num("pid") <= 0 ||
					(tc.perWorker && e.num("worker_pid") <= 0) {
					t.Errorf("recycle log entry %v: want the pid, the worker's pid, its RSS over max_memory", e)
				}
			}
		})
	}
}

// sampleRSS samples, every 100ms until the test ends, the resident memory
// of each process of app server name (its workers and their children, or
// the process itself when it has none) and returns a function that
// reports the largest seen so far.
func sampleRSS(t *testing.T, s *djangoSite, name string) (peak func() int64) {
	var max atomic.Int64
	var pid atomic.Int64
	pid.Store(int64(s.statuses()[name].PID))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if i%10 == 9 { // the master changes with a new generation
				if p := s.statuses()[name].PID; p > 0 {
					pid.Store(int64(p))
				}
			}
			procs := testkit.Descendants(int(pid.Load()))
			if len(procs) == 0 {
				procs = []int{int(pid.Load())}
			}
			for _, p := range procs {
				if rss := residentBytes(p); rss > max.Load() {
					max.Store(rss)
				}
			}
		}
	}()
	t.Cleanup(func() { close(done); wg.Wait() })
	return max.Load
}

// residentBytes is pid's resident memory (/proc/PID/statm), 0 when gone.
func residentBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// growScript is a Python program that keeps 2 MB more every 0.1s (20
// MB/s) after keeping startMB at once; on SIGTERM it says so and exits.
func growScript(t *testing.T, startMB int) string {
	path := filepath.Join(t.TempDir(), "grow.py")
	mustWrite(t, path, fmt.Sprintf(`import signal, sys, time
def term(*_):
    print("got TERM, exiting", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
kept = [b"\x01" * (%d << 20)]
print("started", flush=True)
while True:
    time.sleep(0.1)
    kept.append(b"\x01" * (2 << 20))
`, startMB))
	return path
}

// TestMaxMemoryRestartsAProcess: a process that grows past max_memory is
// restarted gracefully: its stop signal (it exits on it by itself), then
// a new OS process; the recycle is logged, counted and shown.
func TestMaxMemoryRestartsAProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, fmt.Sprintf("\t\tprocess grow %s %s {\n\t\t\tmax_memory 60MiB\n\t\t}", systemPython, growScript(t, 0)))
	first := c.waitState("grow", StateRunning, 30*time.Second)
	e := c.waitLog(60*time.Second, "the memory recycle", msgIs("recycling: the process is restarted gracefully", isProcess("grow")))
	if e.str("level") != "warn" || e.num("pid") != first.PID || e.num("rss") <= 60<<20 || e.num("max_memory") != 60<<20 {
		t.Errorf("recycle log entry %v: want warn, pid %d, its RSS over 60 MiB", e, first.PID)
	}
	c.waitLog(30*time.Second, "its graceful exit on SIGTERM", func(e logEntry) bool {
		return e.str("logger") == "django.grow" && e.str("msg") == "got TERM, exiting"
	})
	var st ProcessStatus
	waitFor(t, 60*time.Second, func() bool {
		st = c.statuses()["grow"]
		return st.State == StateRunning && st.PID != first.PID && st.PID > 0
	}, "a new grow process RUNNING")
	if st.Recycles < 1 || st.Restarts < 1 || !strings.HasPrefix(st.LastRecycle, "memory: the process used ") {
		t.Errorf("status %+v: want a recycle and a restart, last_recycle about its memory", st)
	}
	if got := c.scrape()[`caddy_django_process_recycles_total{process="grow",reason="memory"}`]; got < 1 {
		t.Errorf("recycles metric = %v, want at least 1", got)
	}
}

// TestMaxMemoryBacksOffAtStart: a process over its limit from the moment
// it starts is restarted after a backoff that doubles each time (1s, 2s,
// 4s), as a crash loop, instead of every check.
func TestMaxMemoryBacksOffAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := growScript(t, 80)
	c := startWithDjango(t, dir, fmt.Sprintf("\t\tprocess big %s %s {\n\t\t\tmax_memory 40MiB\n\t\t}", systemPython, script))
	waits := c.waitEntries(3, 90*time.Second, "three restarts after a backoff", msgIs("waiting before restart", isProcess("big")))
	for i, want := range []float64{1, 2, 4} {
		if got, _ := waits[i]["backoff"].(float64); got != want {
			t.Errorf("backoff before restart %d = %vs, want %vs (doubling)", i+1, got, want)
		}
	}
	if n := len(c.entries(msgIs("recycling: the process is restarted gracefully", isProcess("big")))); n < 3 {
		t.Errorf("%d recycles logged, want at least 3", n)
	}
}
