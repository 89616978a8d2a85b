package caddydjango

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of `schedule` through a real Caddy: repeated runs with the
// app's environment, no overlap, timeouts, run-now, time zones.

func TestScheduleRunsRepeatedlyWithTheAppsEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, ".env"), "FROM_FILE=file-value\n")
	mustWrite(t, filepath.Join(dir, "sub", ".keep"), "")
	c := startWithDjango(t, dir, `
		root `+dir+`
		env FROM_APP app-value
		env_file .env
		schedule tick "@every 1s" /bin/sh -c "echo tick $FROM_APP $FROM_FILE $JOB_ONLY $(pwd); pwd >> `+filepath.Join(dir, "runs")+`" {
			env JOB_ONLY job-value
			dir sub
		}
		schedule nightly "0 3 * * *" /bin/sh -c "echo nightly"`, "TZ=Asia/Tokyo")
	done := c.waitEntries(3, 30*time.Second, "3 runs of tick", msgIs("scheduled job done", isProcess("tick")))
	pids := map[int]bool{}
	for _, e := range done {
		pids[e.num("pid")] = true
	}
	if len(pids) != 3 {
		t.Errorf("3 runs had pids %v, want 3 different", pids)
	}
	lines := c.waitEntries(3, 10*time.Second, "tick's output", func(e logEntry) bool { return e.str("logger") == "django.tick" })
	want := "tick app-value file-value job-value " + filepath.Join(dir, "sub")
	for _, e := range lines {
		if e.str("msg") != want || e.num("pid") == 0 {
			t.Errorf("output entry %v, want %q with the run's pid", e, want)
		}
	}
	st := c.statuses()["tick"]
	if st.Schedule != "@every 1s" || st.LastRun.IsZero() || st.NextRun.IsZero() || st.LastExit == "" {
		t.Errorf("tick status: %+v", st)
	}
	// TZ is honoured: 03:00 in Tokyo is 18:00 UTC
	if n := c.statuses()["nightly"].NextRun.UTC(); n.Hour() != 18 || n.Minute() != 0 || time.Until(n) > 24*time.Hour {
		t.Errorf("nightly (0 3 * * * with TZ=Asia/Tokyo) next run at %s UTC, want 18:00 UTC within a day", n)
	}
	// start runs a schedule now
	if code, body := c.post("/django/processes/nightly/start"); code != http.StatusOK {
		t.Fatalf("start nightly: %d %s", code, body)
	}
	c.waitLog(20*time.Second, "nightly to run after start", msgIs("scheduled job done", isProcess("nightly")))
}

func TestScheduleRunsNeverOverlap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lock := filepath.Join(dir, "lock")
	c := startWithDjango(t, dir, `
		schedule slow "@every 1s" /bin/sh -c "mkdir `+lock+` || exit 9; sleep 2.5; rmdir `+lock+`"`)
	c.waitEntries(2, 40*time.Second, "2 runs of slow", msgIs("scheduled job done", isProcess("slow")))
	c.waitLog(10*time.Second, "a skipped run", msgIs("scheduled run skipped: the previous run is still going", isProcess("slow")))
	if st := c.statuses()["slow"]; st.Skipped == 0 {
		t.Errorf("skipped not counted: %+v", st)
	}
	if failed := c.entries(msgIs("scheduled job failed")); len(failed) > 0 {
		t.Errorf("runs overlapped: %v", failed)
	}
	// run now while one runs: refused (409); between runs it starts one
	waitFor(t, 20*time.Second, func() bool {
		code, body := c.post("/django/processes/slow/start")
		if code != http.StatusOK && code != http.StatusConflict {
			t.Fatalf("start: %d %s", code, body)
		}
		return code == http.StatusConflict && strings.Contains(body, "already running")
	}, "start during a run to be refused with 409 already running")
	if failed := c.entries(msgIs("scheduled job failed")); len(failed) > 0 {
		t.Errorf("runs overlapped: %v", failed)
	}
}

func TestScheduleTimeoutKillsTheJobsGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		schedule stuck "@every 1s" /bin/sh -c "trap '' TERM; sleep 600 & sleep 600; wait" {
			timeout 1s
			stop_timeout 1s
		}`)
	started := c.waitLog(20*time.Second, "stuck to start", msgIs("scheduled job started", isProcess("stuck")))
	pid := started.num("pid")
	failed := c.waitLog(30*time.Second, "stuck to time out", msgIs("scheduled job failed", isProcess("stuck"), func(e logEntry) bool { return e.num("pid") == pid }))
	if !strings.Contains(failed.str("exit"), "timed out after 1s (killed by SIGKILL)") {
		t.Errorf("exit %q, want timed out, killed", failed.str("exit"))
	}
	if m := groupMembers(pid); len(m) > 0 {
		t.Errorf("the job's group %d still has %v", pid, m)
	}
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(c.statuses()["stuck"].LastExit, "timed out") }, "status to say timed out")
}

func TestScheduleSurvivesReloadUntilRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	long := `
		schedule long "@every 1s" /bin/sh -c "sleep 600"`
	c := startWithDjango(t, dir, long)
	started := c.waitLog(20*time.Second, "long to start", msgIs("scheduled job started", isProcess("long")))
	pid := started.num("pid")
	// a reload that does not change the schedule keeps its running job
	if err := c.reload(globalBlock(c.admin, long+"\n\t\tprocess other /bin/sleep 600")); err != nil {
		t.Fatal(err)
	}
	c.waitState("other", StateRunning, 20*time.Second)
	if st := c.statuses()["long"]; st.PID != pid || st.State != StateRunning {
		t.Errorf("after an unrelated reload: %+v, want the same run (pid %d)", st, pid)
	}
	if n := len(c.entries(msgIs("scheduled job started", isProcess("long")))); n != 1 {
		t.Errorf("%d runs started, want 1 (the others skipped)", n)
	}
	// a reload that removes it stops its job's group
	if err := c.reload(globalBlock(c.admin, "")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return len(groupMembers(pid)) == 0 }, "the job to stop when a reload removes its schedule")
}
