package caddydjango

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
	"github.com/robfig/cron/v3"
)

// startPostgresDB runs a PostgreSQL of the test's own (stopped, and its
// directory removed, when the test ends) with a database "app", and
// returns that database's URL.
func startPostgresDB(t *testing.T) (*testkit.Postgres, string) {
	t.Helper()
	pg, err := testkit.StartPostgres()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := pg.CreateDatabase("app"); err != nil {
		t.Fatal(err)
	}
	return pg, pg.URL("app")
}

// requirePsycopg2 fails the test when Django cannot reach PostgreSQL.
func requirePsycopg2(t *testing.T) {
	t.Helper()
	if err := exec.Command(systemPython, "-c", "import psycopg2").Run(); err != nil {
		t.Fatal(missingPackages("python3-psycopg2"))
	}
}

// TestOnceNext: a `once` schedule's @every period counts from the Unix
// epoch (every container computes the same times, whenever it started);
// cron specs are robfig/cron's.
func TestOnceNext(t *testing.T) {
	every, _ := parseSchedule("@every 2s")
	for _, c := range []struct{ now, want time.Time }{
		{time.Unix(1000, 0), time.Unix(1002, 0)},
		{time.Unix(1000, 1), time.Unix(1002, 0)},
		{time.Unix(1001, 999999999), time.Unix(1002, 0)},
		{time.Unix(1003, 500000000), time.Unix(1004, 0)},
	} {
		if got := onceNext(every, c.now); !got.Equal(c.want) {
			t.Errorf("@every 2s at %v: %v, want %v", c.now.UnixNano(), got.UnixNano(), c.want.UnixNano())
		}
	}
	minutely, _ := parseSchedule("* * * * *")
	now := time.Date(2026, 12, 1, 3, 4, 5, 0, time.Local)
	if got, want := onceNext(minutely, now), time.Date(2026, 12, 1, 3, 5, 0, 0, time.Local); !got.Equal(want) {
		t.Errorf("* * * * *: %v, want %v", got, want)
	}
	if _, ok := every.(cron.ConstantDelaySchedule); !ok {
		t.Fatalf("@every parses to %T", every)
	}
}

// TestLockCaddyfile: `lock`, `drain` and `once` in the Caddyfile, and the
// errors for bad values (file:line, no password).
func TestLockCaddyfile(t *testing.T) {
	raw, err := adaptDjango(t, `{
	django {
		lock {env.DATABASE_URL}
		drain 10s
		schedule digest "0 * * * *" ./manage.py digest {
			once
		}
	}
}`)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(raw)
	want := `{"drain":10000000000,"lock":"{env.DATABASE_URL}","schedules":[{"command":["./manage.py","digest"],"name":"digest","once":true,"spec":"0 * * * *"}]}`
	if string(got) != want {
		t.Errorf("adapted:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range []struct{ name, caddyfile, want string }{
		{"negative drain", "{\n\tdjango {\n\t\tdrain -1s\n\t}\n}", `Caddyfile:3 - Error during parsing: drain: "-1s" must not be negative`},
		{"bad drain", "{\n\tdjango {\n\t\tdrain soon\n\t}\n}", `Caddyfile:3 - Error during parsing: drain: "soon" is not a duration`},
		{"lock scheme", "{\n\tdjango {\n\t\tlock redis://:s3cret@cache:6379\n\t}\n}", `Caddyfile:3 - Error during parsing: lock: redis://:xxxxx@cache:6379: want postgres://USER:PASSWORD@HOST:PORT/DATABASE or file:<directory>`},
		{"lock port", "{\n\tdjango {\n\t\tlock postgres://app:s3cret@db:port/app\n\t}\n}", "Caddyfile:3 - Error during parsing: lock: cannot parse `postgres://app:xxxxx@db:port/app`: invalid port"},
		{"lock without value", "{\n\tdjango {\n\t\tlock\n\t}\n}", `Caddyfile:3 - Error during parsing: lock needs a value`},
		{"once with a value", "{\n\tdjango {\n\t\tschedule x @daily ./a {\n\t\t\tonce true\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: once takes no value, got "true"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := adaptDjango(t, c.caddyfile)
			wantAdaptError(t, err, c.want)
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the password is in the error: %v", err)
			}
		})
	}
}

// TestLockProvision: `once` needs `lock`; a lock whose placeholder is
// empty is no config error (an image build validates without the
// runtime's environment; TestLockUnreachable: its uses fail); nothing is
// contacted while provisioning.
func TestLockProvision(t *testing.T) {
	err := provisionDjangoErr(t, "{\n\tdjango {\n\t\tschedule x @daily /bin/true {\n\t\t\tonce\n\t\t}\n\t}\n}")
	if err == nil || err.Error() != "schedule \"x\": once needs `lock` in the django block (a PostgreSQL URL or file:<dir> that every container shares)" {
		t.Errorf("once without lock: %v", err)
	}
	t.Setenv("CADDY_DJANGO_TEST_NO_SUCH_URL", "")
	if err := provisionDjangoErr(t, "{\n\tdjango {\n\t\tlock {env.CADDY_DJANGO_TEST_NO_SUCH_URL}\n\t}\n}"); err != nil {
		t.Errorf("empty lock: %v", err)
	}
	// a server nobody listens on: provisioning does not contact it
	if err := provisionDjangoErr(t, "{\n\tdjango {\n\t\tlock postgres://app@127.0.0.1:1/app\n\t\tschedule x @daily /bin/true {\n\t\t\tonce\n\t\t}\n\t}\n}"); err != nil {
		t.Errorf("provisioning a lock: %v", err)
	}
}

// releaseRun is one Caddy's run of the release commands, from the
// markers the first and last commands write.
type releaseRun struct {
	who        string
	start, end float64
}

// readReleaseRuns parses the markers ("start|end INSTANCE UNIXTIME").
func readReleaseRuns(t *testing.T, path string) []releaseRun {
	t.Helper()
	runs := map[string]*releaseRun{}
	for _, line := range strings.Split(strings.TrimSpace(string(mustRead(t, path))), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad marker %q", line)
		}
		at, _ := strconv.ParseFloat(f[2], 64)
		r := runs[f[1]]
		if r == nil {
			r = &releaseRun{who: f[1]}
			runs[f[1]] = r
		}
		if f[0] == "start" {
			r.start = at
		} else {
			r.end = at
		}
	}
	var out []releaseRun
	for _, r := range runs {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// checkNoOverlap fails when two release runs overlapped or one is
// missing its start or end.
func checkNoOverlap(t *testing.T, runs []releaseRun, n int) {
	t.Helper()
	if len(runs) != n {
		t.Fatalf("%d release runs, want %d: %+v", len(runs), n, runs)
	}
	for i, r := range runs {
		if r.start == 0 || r.end == 0 {
			t.Errorf("run %+v lacks its start or end", r)
		}
		if i > 0 && r.start < runs[i-1].end {
			t.Errorf("release runs overlap: %+v began before %+v ended", r, runs[i-1])
		}
	}
}

// releaseCommands are release commands that write start and end markers
// to markers around the real ones, the first holding on for a second (so
// that Caddys started together contend for the lock).
func releaseCommands(markers string, real ...string) string {
	lines := []string{fmt.Sprintf(`release /bin/sh -c "echo start $INSTANCE $(date +%%s.%%N) >> %s; sleep 1"`, markers)}
	lines = append(lines, real...)
	lines = append(lines, fmt.Sprintf(`release /bin/sh -c "echo end $INSTANCE $(date +%%s.%%N) >> %s"`, markers))
	return strings.Join(lines, "\n\t\t")
}

// TestReleaseLockPostgres: three Caddys starting together, with the
// project's database on PostgreSQL and `lock` on it, run the release
// commands one at a time (no overlap); the first migrates, the others find
// no migrations to apply; a waiting one names the holder.
func TestReleaseLockPostgres(t *testing.T) {
	t.Parallel()
	requirePsycopg2(t)
	_, url := startPostgresDB(t)
	d := newDjangoProject(t)
	markers := filepath.Join(t.TempDir(), "runs")
	django := fmt.Sprintf(`
		root %s
		lock {env.DATABASE_URL}
		env DJANGO_SETTINGS_MODULE demo.settings
		%s
		process sleeper /bin/sleep 1000`, d.Root, releaseCommands(markers, "release "+systemPython+" manage.py migrate --noinput"))
	var cs []*caddyProc
	for _, name := range []string{"a", "b", "c"} {
		cs = append(cs, startWithDjango(t, t.TempDir(), django, append(slices.Clone(d.Env), "INSTANCE="+name, "DATABASE_URL="+url)...))
	}
	for _, c := range cs {
		c.waitState("sleeper", StateRunning, 180*time.Second)
	}
	checkNoOverlap(t, readReleaseRuns(t, markers), 3)
	applied, nothing, waited := 0, 0, 0
	pids := map[string]bool{}
	for _, c := range cs {
		pids[fmt.Sprintf(" pid %d", c.cmd.Process.Pid)] = true
	}
	for _, c := range cs {
		release := func(sub string) bool {
			return len(c.entries(func(e logEntry) bool {
				return e.str("logger") == "django.release" && strings.Contains(e.str("msg"), sub)
			})) > 0
		}
		if release("Applying contenttypes.0001_initial... OK") {
			applied++
		}
		if release("No migrations to apply.") {
			nothing++
		}
		for _, e := range c.entries(msgIs("waiting for the release lock: another container runs the release commands")) {
			waited++
			holder := e.str("holder")
			if i := strings.LastIndex(holder, " pid "); i < 0 || !pids[holder[i:]] || strings.HasSuffix(holder, fmt.Sprintf(" pid %d", c.cmd.Process.Pid)) {
				t.Errorf("the holder is %q; want another of the Caddys (%v)", holder, pids)
			}
		}
		c.waitLog(10*time.Second, "the lock taken", msgIs("release lock taken", func(e logEntry) bool { return e.str("lock") == url }))
	}
	if applied != 1 || nothing != 2 {
		t.Errorf("%d Caddys applied the migrations and %d found none to apply; want 1 and 2", applied, nothing)
	}
	if waited == 0 {
		t.Error("no Caddy waited for the lock: the test did not make them contend")
	}
	st := cs[2].cluster()
	if st.Lock != url || st.LastLockWait == "" {
		t.Errorf("cluster status: %+v", st)
	}
}

// TestReleaseLockFreedWhenHolderKilled: a Caddy killed (SIGKILL) while it
// holds the release lock frees it (its database session ends): a waiting
// Caddy runs its release at once.
func TestReleaseLockFreedWhenHolderKilled(t *testing.T) {
	t.Parallel()
	_, url := startPostgresDB(t)
	dir := t.TempDir()
	markers := filepath.Join(dir, "runs")
	django := fmt.Sprintf(`
		lock %s
		release /bin/sh -c "echo $INSTANCE >> %s; [ $INSTANCE = b ] || exec sleep 600"
		process sleeper /bin/sleep 1000`, url, markers)
	a := startWithDjango(t, t.TempDir(), django, "INSTANCE=a")
	a.waitLog(60*time.Second, "a's release", msgIs("release lock taken"))
	b := startWithDjango(t, t.TempDir(), django, "INSTANCE=b")
	b.waitLog(60*time.Second, "b waiting", msgIs("waiting for the release lock: another container runs the release commands",
		func(e logEntry) bool {
			return strings.HasSuffix(e.str("holder"), fmt.Sprintf(" pid %d", a.cmd.Process.Pid))
		}))
	a.signalAndWait(syscall.SIGKILL, 30*time.Second)
	b.waitState("sleeper", StateRunning, 60*time.Second)
	if got := strings.Fields(string(mustRead(t, markers))); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("release runs: %v, want a then b", got)
	}
}

// claimedSlots returns, per schedule, the slots each Caddy claimed (from
// their logs).
func claimedSlots(cs []*caddyProc, schedule string) (bySlot map[string][]int, n int) {
	bySlot = map[string][]int{}
	for i, c := range cs {
		for _, e := range c.entries(msgIs("scheduled slot claimed: this container runs it", isProcess(schedule))) {
			slot := fmt.Sprint(e["slot"])
			bySlot[slot] = append(bySlot[slot], i)
			n++
		}
	}
	return bySlot, n
}

// countLines counts the lines of path (0 when it does not exist).
func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// checkOnce checks that no slot of schedule was claimed twice across cs,
// that the job ran once per claimed slot (its lines in out; a job the
// Caddys' stop ended may have written none), and that the
// other Caddys logged that it ran elsewhere; it returns the claimed slots.
func checkOnce(t *testing.T, cs []*caddyProc, schedule, out string) map[string][]int {
	t.Helper()
	bySlot, n := claimedSlots(cs, schedule)
	for slot, who := range bySlot {
		if len(who) > 1 {
			t.Errorf("%s: slot %s claimed by Caddys %v", schedule, slot, who)
		}
	}
	// a job started just as the test stopped the Caddys is stopped with
	// them (TERM) and may not have written its line
	stopped := 0
	for _, c := range cs {
		stopped += len(c.entries(msgIs("scheduled job failed", isProcess(schedule), func(e logEntry) bool { return e.str("exit") == "killed by SIGTERM" })))
	}
	if lines := countLines(out); lines > n || lines < n-stopped {
		t.Errorf("%s: %d runs for %d claimed slots (%d jobs stopped with their Caddy)", schedule, lines, n, stopped)
	}
	elsewhere := 0
	for _, c := range cs {
		elsewhere += len(c.entries(msgIs("scheduled run skipped: it ran in another container", isProcess(schedule))))
	}
	if elsewhere == 0 {
		t.Errorf("%s: no Caddy logged a run that ran elsewhere", schedule)
	}
	return bySlot
}

// scheduleOnceCaddys starts three Caddys sharing lock, with a `once`
// schedule every minute and one every 2s whose jobs append a line to
// files in dir; it returns once two minutes' slots were claimed, with the
// Caddys stopped.
func scheduleOnceCaddys(t *testing.T, lock, dir string) []*caddyProc {
	t.Helper()
	django := fmt.Sprintf(`
		lock %s
		schedule minutely "* * * * *" /bin/sh -c "echo $INSTANCE >> %s" {
			once
		}
		schedule every2s "@every 2s" /bin/sh -c "echo $INSTANCE >> %s" {
			once
		}`, lock, filepath.Join(dir, "minutely"), filepath.Join(dir, "every2s"))
	var cs []*caddyProc
	for _, name := range []string{"a", "b", "c"} {
		cs = append(cs, startWithDjango(t, t.TempDir(), django, "INSTANCE="+name))
	}
	waitFor(t, 200*time.Second, func() bool { _, n := claimedSlots(cs, "minutely"); return n >= 2 }, "two minutes' runs")
	for _, c := range cs {
		if state := c.signalAndWait(syscall.SIGTERM, 60*time.Second); !state.Success() {
			t.Errorf("caddy exited with %v", state)
		}
	}
	return cs
}

// checkEvery2s checks that the @every 2s schedule ran in (almost) every
// 2s period from the first to the last claimed: a period the three miss
// is possible only if all three stall for seconds.
func checkEvery2s(t *testing.T, bySlot map[string][]int) {
	t.Helper()
	var slots []float64
	for s := range bySlot {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("slot %q is not a time in seconds", s)
		}
		if f != float64(int64(f)/2*2) {
			t.Errorf("slot %s is not a 2s period counted from the epoch", s)
		}
		slots = append(slots, f)
	}
	slices.Sort(slots)
	periods := int((slots[len(slots)-1]-slots[0])/2) + 1
	t.Logf("every2s: %d periods ran once in %d", len(slots), periods)
	if len(slots) < periods*8/10 {
		t.Errorf("every2s: %d periods ran in %d", len(slots), periods)
	}
}

// TestScheduleOncePostgres: three Caddys sharing a PostgreSQL lock run a
// schedule every minute once per minute and an @every 2s one once per
// period (epoch-aligned); the others log that it ran elsewhere and count
// it in their status.
func TestScheduleOncePostgres(t *testing.T) {
	t.Parallel()
	pg, url := startPostgresDB(t)
	dir := t.TempDir()
	cs := scheduleOnceCaddys(t, url, dir)
	if got := checkOnce(t, cs, "minutely", filepath.Join(dir, "minutely")); len(got) < 2 {
		t.Errorf("minutely ran in %d minutes", len(got))
	}
	checkEvery2s(t, checkOnce(t, cs, "every2s", filepath.Join(dir, "every2s")))
	rows, err := pg.SQL("app", "SELECT name, owner FROM caddy_django_schedule_runs ORDER BY name")
	if err != nil || !strings.HasPrefix(rows, "every2s|") || !strings.Contains(rows, "\nminutely|") {
		t.Errorf("the claims table: %q, %v", rows, err)
	}
}

// TestScheduleOnceStatus: a `once` schedule's status counts the runs that
// ran elsewhere (JSON and table).
func TestScheduleOnceStatus(t *testing.T) {
	t.Parallel()
	lock := "file:" + t.TempDir()
	django := fmt.Sprintf(`
		lock %s
		schedule tick "@every 1s" /bin/true {
			once
		}`, lock)
	a := startWithDjango(t, t.TempDir(), django)
	b := startWithDjango(t, t.TempDir(), django)
	var st ProcessStatus
	waitFor(t, 60*time.Second, func() bool {
		st = a.statuses()["tick"]
		return st.RanElsewhere > 0 || b.statuses()["tick"].RanElsewhere > 0
	}, "a run that ran elsewhere")
	if !st.Once {
		t.Errorf("status: %+v; want once", st)
	}
	out, errOut, code := runCLI(t, "status", "--address", b.admin)
	if code != 0 || !strings.Contains(out, "once: ") || !strings.Contains(out, " ran elsewhere") || !strings.Contains(out, "\nlock "+lock) {
		t.Errorf("status: exit %d\n%s%s", code, out, errOut)
	}
}

// TestLockFileThreeCaddys: `lock file:<dir>` (flock on a shared directory)
// with three Caddys: the release commands never overlap, and an @every 2s
// `once` schedule runs once per period.
func TestLockFileThreeCaddys(t *testing.T) {
	t.Parallel()
	shared := t.TempDir()
	markers := filepath.Join(shared, "runs")
	out := filepath.Join(shared, "every2s")
	django := fmt.Sprintf(`
		lock file:%s
		%s
		schedule every2s "@every 2s" /bin/sh -c "echo $INSTANCE >> %s" {
			once
		}`, shared, releaseCommands(markers), out)
	var cs []*caddyProc
	for _, name := range []string{"a", "b", "c"} {
		cs = append(cs, startWithDjango(t, t.TempDir(), django, "INSTANCE="+name))
	}
	waitFor(t, 120*time.Second, func() bool { _, n := claimedSlots(cs, "every2s"); return n >= 6 }, "six runs of every2s")
	for _, c := range cs {
		c.signalAndWait(syscall.SIGTERM, 60*time.Second)
	}
	checkNoOverlap(t, readReleaseRuns(t, markers), 3)
	checkEvery2s(t, checkOnce(t, cs, "every2s", out))
}

// TestLockUnreachable: a lock that cannot be used fails the release like a
// failing command (the process after it is FATAL, with why: the host and
// the reason, never the password), and a `once` schedule's runs are
// skipped, logged at error and counted, never run.
func TestLockUnreachable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	for _, c := range []struct{ lock, why string }{ // (CADDY_DJANGO_TEST_NO_SUCH_URL is not set)
		{"postgres://app:s3cret@127.0.0.1:1/app?connect_timeout=5", "cannot connect to PostgreSQL at 127.0.0.1:1"},
		{"{env.CADDY_DJANGO_TEST_NO_SUCH_URL}", "lock {env.CADDY_DJANGO_TEST_NO_SUCH_URL} is empty (an environment variable that is not set?)"},
		{"file:" + filepath.Join(dir, "not-mounted"), "lock directory " + filepath.Join(dir, "not-mounted") + " does not exist"},
	} {
		// the release fails, and the process after it with it
		r := startWithDjango(t, t.TempDir(), fmt.Sprintf("lock %s\n\t\trelease /bin/touch %s\n\t\tprocess sleeper /bin/sleep 1000", c.lock, ran))
		st := r.waitState("sleeper", StateFatal, 60*time.Second)
		if !strings.Contains(st.LastError, c.why) || strings.Contains(st.LastError, "s3cret") {
			t.Errorf("%s: sleeper's error: %q; want %q", c.lock, st.LastError, c.why)
		}
		if cl := r.cluster(); cl.LockErrors != 1 || !strings.Contains(cl.LastLockError, c.why) {
			t.Errorf("%s: cluster status: %+v", c.lock, cl)
		}
		// the schedule's runs are skipped
		p := startWithDjango(t, t.TempDir(), fmt.Sprintf("lock %s\n\t\tschedule tick \"@every 1s\" /bin/touch %s {\n\t\t\tonce\n\t\t}", c.lock, ran))
		skipped := p.waitLog(30*time.Second, "a skipped run", msgIs("scheduled run skipped: the lock cannot be reached, and without it the run could happen twice"))
		if skipped.str("level") != "error" || !strings.Contains(skipped.str("error"), c.why) {
			t.Errorf("%s: skipped run's log: %v", c.lock, skipped)
		}
		waitFor(t, 30*time.Second, func() bool {
			return p.scrape()[`caddy_django_schedule_skipped_total{reason="lock_error",schedule="tick"}`] >= 1
		}, "the skipped run's metric")
		if st := p.statuses()["tick"]; st.LockErrors == 0 || !strings.Contains(st.LastError, c.why) {
			t.Errorf("%s: tick's status: %+v", c.lock, st)
		}
		for _, c := range []*caddyProc{r, p} {
			c.signalAndWait(syscall.SIGTERM, 60*time.Second)
			for _, e := range c.entries(func(logEntry) bool { return true }) {
				if b, _ := json.Marshal(e); strings.Contains(string(b), "s3cret") {
					t.Errorf("the password is in the log: %s", b)
				}
			}
		}
		if _, err := os.Stat(ran); err == nil {
			t.Errorf("%s: the release or the job ran without the lock", c.lock)
		}
	}
}
