package caddydjango

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKilledSince: the journal of stops that ended with SIGKILL answers by
// name for the stops since a moment, the latest first, and keeps a bounded
// number.
func TestKilledSince(t *testing.T) {
	p := &process{spec: &spec{Name: "journal-test-worker", StopSignal: "TERM", StopTimeout: 10 * time.Second}}
	before := time.Now()
	recordKill(p, 41)
	recordKill(p, 42)
	k := killedSince("journal-test-worker", before)
	if k == nil || k.PID != 42 || k.StopSignal != "TERM" || k.StopTimeout != "10s" {
		t.Fatalf("killedSince: %+v, want the latest kill (pid 42, TERM, 10s)", k)
	}
	if k := killedSince("journal-test-other", before); k != nil {
		t.Errorf("another name: %+v, want nil", k)
	}
	if k := killedSince("journal-test-worker", time.Now().Add(time.Second)); k != nil {
		t.Errorf("since after the kill: %+v, want nil", k)
	}
	other := &process{spec: &spec{Name: "journal-test-other", StopSignal: "INT", StopTimeout: time.Second}}
	for i := range 2 * killedStopsKept {
		recordKill(other, 100+i)
	}
	if k := killedSince("journal-test-worker", before); k != nil {
		t.Errorf("a kill older than the last %d is still kept: %+v", killedStopsKept, k)
	}
	sts := markKilled([]ProcessStatus{{Name: "journal-test-other"}, {Name: "journal-test-none"}}, before)
	if sts[0].Killed == nil || sts[0].Killed.PID != 100+2*killedStopsKept-1 || sts[1].Killed != nil {
		t.Errorf("markKilled: %+v, %+v", sts[0].Killed, sts[1].Killed)
	}
	if got := killedLine("worker", &KilledStop{PID: 7, StopSignal: "TERM", StopTimeout: "10s"}); got !=
		"worker (pid 7) did not stop within its stop_timeout (10s) after SIGTERM and was killed (SIGKILL): what it was doing was cut off" {
		t.Errorf("killedLine: %q", got)
	}
}

// TestKilledStopsAreReported: a task worker that finishes its current job
// on SIGTERM (celery's warm shutdown) and needs longer than its
// stop_timeout is SIGKILLed mid-job by `caddy django restart`, `reload`
// (a deploy) and `stop`: each says so on stderr, naming it (and not
// Gunicorn, which stopped in time), and still exits 0; the admin API's
// answer carries "killed" with the killed pid, the stop signal and the
// timeout.
func TestKilledStopsAreReported(t *testing.T) {
	t.Parallel()
	d := newDjangoProject(t)
	worker := filepath.Join(d.Root, "jobs.py")
	mustWrite(t, worker, `import signal, sys, time
stopping = False
def warm_shutdown(*_):
    global stopping
    stopping = True
    print("warm shutdown: finishing the current job", flush=True)
signal.signal(signal.SIGTERM, warm_shutdown)
while not stopping:
    for step in range(1, 31):
        print(f"job step {step} of 30", flush=True)
        time.sleep(1)
`)
	worker = fmt.Sprintf("process worker %s %s {\n\t\t\tstop_timeout 2s\n\t\t}", systemPython, worker)
	s := launchDjangoSite(t, d, func(s *djangoSite, admin string) string {
		return s.config(admin, 2, "", worker, "")
	})
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	inJob := func() int {
		t.Helper()
		st := s.waitState("worker", StateRunning, 30*time.Second)
		s.waitLog(30*time.Second, "the worker in a job", func(e logEntry) bool {
			return e.str("logger") == "django.worker" && e.num("pid") == st.PID && strings.HasPrefix(e.str("msg"), "job step")
		})
		return st.PID
	}
	for _, args := range [][]string{{"restart", "worker"}, {"reload"}, {"stop", "worker"}} {
		pid := inJob()
		out, errOut, code := runCLI(t, append(args, "--address", s.admin)...)
		want := fmt.Sprintf("warning: worker (pid %d) did not stop within its stop_timeout (2s) after SIGTERM and was killed (SIGKILL)", pid)
		if code != 0 || !strings.Contains(errOut, want) {
			t.Errorf("caddy django %s: exit %d, want 0 and %q on stderr\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		if strings.Contains(errOut, gunicornName) {
			t.Errorf("caddy django %s names gunicorn, which stopped in time:\n%s", strings.Join(args, " "), errOut)
		}
	}

	// the API's own answer
	if code, body := s.post("/django/processes/worker/start"); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	pid := inJob()
	resp, err := adminClient.Post("http://"+s.admin+"/django/processes/worker/stop", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sts []ProcessStatus
	if err := json.Unmarshal(body, &sts); err != nil || len(sts) != 1 {
		t.Fatalf("stop's answer: %v %s", err, body)
	}
	if k := sts[0].Killed; k == nil || k.PID != pid || k.StopSignal != "TERM" || k.StopTimeout != "2s" || k.At.IsZero() {
		t.Errorf("stop's answer: killed %+v, want pid %d, TERM, 2s\n%s", k, pid, body)
	}
	if code, body := s.post("/django/processes/worker/start"); code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	s.waitState("worker", StateRunning, 30*time.Second)
	if code, body := s.post("/django/processes/" + gunicornName + "/restart"); code != 200 || strings.Contains(body, `"killed"`) {
		t.Errorf("restart of gunicorn, which stops in time: %d, want 200 and no \"killed\"\n%s", code, body)
	}
}
