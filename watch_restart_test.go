package caddydjango

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of `watch` (development mode) through a real Caddy: a
// saved view is served by a new generation with no failed request, new
// code that does not import never replaces the running one (its error is
// logged and in status, and the fix is served), a worker restarts on a
// change, excluded directories restart nothing, polling works.

// editFile replaces old by new in path (which must contain old).
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	src := string(mustRead(t, path))
	if !strings.Contains(src, old) {
		t.Fatalf("%s has no %q", path, old)
	}
	mustWrite(t, path, strings.Replace(src, old, new, 1))
}

// waitBody waits until GET path answers 200 with a body that starts with
// prefix.
func (s *djangoSite) waitBody(path, prefix string, timeout time.Duration) {
	s.t.Helper()
	var code int
	var body string
	waitFor(s.t, timeout, func() bool {
		code, body = httpGet(s.url(path))
		return code == 200 && strings.HasPrefix(body, prefix)
	}, "GET "+path+" to answer "+prefix+" (last: "+body+")")
}

// watching waits for the log line that says the watcher of process name
// is ready, and returns it.
func (s *djangoSite) watching(name string) logEntry {
	s.t.Helper()
	return s.waitLog(60*time.Second, "the watcher of "+name, func(e logEntry) bool {
		if e.str("msg") != "watching files: a change restarts these processes" {
			return false
		}
		ps, _ := e["processes"].([]any)
		return slices.Contains(ps, any(name))
	})
}

const brokenView = "\ndef broken(:\n    pass\n"

// TestWatchServesNewCodeWithZeroDowntime, for each app server (Gunicorn's
// sync workers, uvicorn, hypercorn, daphne, uWSGI): a saved view is served by a new generation while POSTs
// and GETs hammer the site, none failing; a syntax error saved in a view
// keeps the running generation serving the old code, with the error
// (SyntaxError, views.py and its line) logged at error level and shown in
// status; the fix is served, and the error is gone from status.
func TestWatchServesNewCodeWithZeroDowntime(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, entry string }{
		{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\twatch\n\t\t}"},
		{"uvicorn", "uvicorn demo.asgi:application {\n\t\t\twatch\n\t\t}"},
		{"hypercorn", "hypercorn demo.asgi:application {\n\t\t\tcommand /usr/bin/hypercorn\n\t\t\twatch\n\t\t}"},
		{"daphne", "daphne demo.asgi:application {\n\t\t\tcommand /usr/bin/daphne\n\t\t\twatch\n\t\t}"},
		{"uwsgi", "uwsgi demo.wsgi:application {\n\t\t\tcommand /usr/bin/uwsgi --plugin python3\n\t\t\twatch\n\t\t}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := appServerSite(t, c.name, c.entry)
			s.watching(c.name)
			views := filepath.Join(s.project.Root, "demo", "views.py")
			s.waitBody("/hello/", "hello from django", 10*time.Second)
			first := s.statuses()[c.name].PID

			// (a worker that has not served a request yet imports the new
			// view by itself: Django imports views at the first request)
			underLoad(t, s, false, "restart on a saved view", false, func() {
				editFile(t, views, `f"hello from django pid=`, `f"hello from new code pid=`)
				s.waitLog(90*time.Second, "the new generation", msgIs("the new code serves; the previous generation stops", isProcess(c.name)))
				s.waitBody("/hello/", "hello from new code", 10*time.Second)
			})
			second := s.statuses()[c.name]
			if second.PID == first || second.State != StateRunning {
				t.Fatalf("after the change: %+v, want a new generation RUNNING (was pid %d)", second, first)
			}
			changed := s.waitLog(10*time.Second, "the restart's log line", msgIs("files changed: restarting with the new code once it imports", isProcess(c.name)))
			if changed.str("file") != "demo/views.py" {
				t.Errorf("restart logged %v, want file demo/views.py", changed)
			}

			// a syntax error: the old code keeps serving, the error is shown
			underLoad(t, s, false, "a view saved with a syntax error", false, func() {
				src := string(mustRead(t, views))
				mustWrite(t, views, src+brokenView)
				failed := s.waitLog(90*time.Second, "the failed restart's error", func(e logEntry) bool {
					return e.str("level") == "error" && strings.HasPrefix(e.str("msg"), "the new code does not start") && e.str("process") == c.name
				})
				if errText := failed.str("error"); !strings.Contains(errText, "SyntaxError") || !strings.Contains(errText, "views.py, line ") {
					t.Errorf("error %q, want the SyntaxError with views.py and its line", errText)
				}
				if !strings.Contains(failed.str("traceback"), "def broken(:") {
					t.Errorf("traceback %q, want the offending line", failed.str("traceback"))
				}
			})
			st := s.statuses()[c.name]
			if st.PID != second.PID || st.State != StateRunning || !strings.Contains(st.WatchError, "SyntaxError") {
				t.Errorf("after the broken save: %+v, want pid %d RUNNING with the SyntaxError as watch_error", st, second.PID)
			}
			if code, body := httpGet(s.url("/hello/")); code != 200 || !strings.HasPrefix(body, "hello from new code") {
				t.Errorf("GET /hello/ after the broken save: %d %q, want the last good code", code, body)
			}
			out, _, _ := runCLI(t, "status", "--address", s.admin, c.name)
			if !strings.Contains(out, "new code not started: SyntaxError") {
				t.Errorf("caddy django status:\n%s\nwant the SyntaxError", out)
			}

			// the fix is served, the error is gone
			src := strings.Replace(string(mustRead(t, views)), brokenView, "", 1)
			mustWrite(t, views, strings.Replace(src, `f"hello from new code pid=`, `f"hello from fixed code pid=`, 1))
			s.waitEntries(2, 90*time.Second, "the fix's generation", msgIs("the new code serves; the previous generation stops", isProcess(c.name)))
			s.waitBody("/hello/", "hello from fixed code", 10*time.Second)
			if st := s.statuses()[c.name]; st.WatchError != "" || st.PID == second.PID {
				t.Errorf("after the fix: %+v, want a new generation without watch_error", st)
			}
		})
	}
}

// TestWatchRestartsAWorker: a process with `watch` restarts when a file it
// runs changes; changes in excluded directories (node_modules, .git,
// __pycache__, MEDIA_ROOT from the settings) and files that match no
// pattern restart nothing; a process without `watch` is left alone.
func TestWatchRestartsAWorker(t *testing.T) {
	t.Parallel()
	extra := "process worker /usr/bin/python3 manage.py worker --interval 1 {\n\t\t\twatch\n\t\t}\n" +
		"\t\tprocess other /usr/bin/python3 manage.py worker --interval 1"
	s := startDjangoSite(t, 1, "", extra)
	s.waitState("worker", StateRunning, 60*time.Second)
	s.watching("worker")
	// the media root comes from the settings: wait for them
	waitFor(t, 60*time.Second, func() bool { return len(s.entries(msgIs("read the project's settings"))) > 0 }, "the settings")
	before, other := s.statuses()["worker"], s.statuses()["other"]

	root := s.project.Root
	for _, p := range []string{"node_modules/pkg/index.py", ".git/hooks/x.py", "files/__pycache__/x.py", "media_root/uploads/evil.py", "notes.txt"} {
		mustWrite(t, filepath.Join(root, p), "# changed\n")
	}
	worker := filepath.Join(root, "files", "management", "commands", "worker.py")
	mustWrite(t, worker, string(mustRead(t, worker))+"\n# changed\n")
	restarted := s.waitLog(30*time.Second, "the worker's restart", msgIs("files changed: restarting", isProcess("worker")))
	if restarted.str("file") != "files/management/commands/worker.py" || restarted.num("files") != 1 {
		t.Errorf("restart logged %v, want worker.py alone", restarted)
	}
	after := s.waitState("worker", StateRunning, 30*time.Second)
	waitFor(t, 30*time.Second, func() bool {
		after = s.statuses()["worker"]
		return after.State == StateRunning && after.PID != before.PID
	}, "a new worker")
	if n := len(s.entries(msgIs("files changed: restarting", isProcess("worker")))); n != 1 {
		t.Errorf("%d restarts of the worker, want 1", n)
	}
	if st := s.statuses()["other"]; st.PID != other.PID {
		t.Errorf("the process without watch restarted: pid %d -> %d", other.PID, st.PID)
	}
	if st := s.statuses()[gunicornName]; len(s.entries(msgIs("files changed: restarting with the new code once it imports"))) > 0 {
		t.Errorf("gunicorn (no watch) restarted: %+v", st)
	}

	// a config reload: the new config watches (once), the old one no more
	if err := s.reload(s.config(s.admin, 1, "", extra, "header X-Reloaded 1\n\tdjango_files")); err != nil {
		t.Fatal(err)
	}
	s.waitEntries(2, 60*time.Second, "the new config's watcher", msgIs("watching files: a change restarts these processes"))
	mustWrite(t, worker, string(mustRead(t, worker))+"\n# changed again\n")
	s.waitEntries(2, 30*time.Second, "the worker's restart after the reload", msgIs("files changed: restarting", isProcess("worker")))
	third := after
	waitFor(t, 30*time.Second, func() bool {
		third = s.statuses()["worker"]
		return third.State == StateRunning && third.PID != after.PID
	}, "a new worker after the reload")
	if n := len(s.entries(msgIs("files changed: restarting", isProcess("worker")))); n != 2 {
		t.Errorf("%d restarts of the worker, want 2 (one per change)", n)
	}
}

// TestWatchPolling: `poll` forces polling (as on a Docker Desktop bind
// mount, where inotify misses the host's changes); the log says so, and a
// change restarts the process.
func TestWatchPolling(t *testing.T) {
	t.Parallel()
	extra := "process worker /usr/bin/python3 manage.py worker --interval 1 {\n\t\t\twatch **/*.py {\n\t\t\t\tpoll 200ms\n\t\t\t}\n\t\t}"
	s := startDjangoSite(t, 1, "", extra)
	s.waitState("worker", StateRunning, 60*time.Second)
	if w := s.watching("worker"); w.str("method") != "poll" {
		t.Fatalf("watcher %v, want method poll", w)
	}
	before := s.statuses()["worker"].PID
	worker := filepath.Join(s.project.Root, "files", "management", "commands", "worker.py")
	mustWrite(t, worker, string(mustRead(t, worker))+"\n# changed\n")
	waitFor(t, 30*time.Second, func() bool {
		st := s.statuses()["worker"]
		return st.State == StateRunning && st.PID != before
	}, "a new worker")
	if e := s.waitLog(10*time.Second, "the restart", msgIs("files changed: restarting", isProcess("worker"))); e.str("file") != "files/management/commands/worker.py" {
		t.Errorf("restart logged %v", e)
	}
}

// TestProvisionWatch: entries with the same watch options share one
// watcher, patterns default to Python files and templates, a disabled
// entry is not watched, and bad options fail provisioning.
func TestProvisionWatch(t *testing.T) {
	off := false
	a := &App{
		Gunicorn: &GunicornConfig{App: "a.wsgi", ProcessOptions: ProcessOptions{Watch: &WatchConfig{}}},
		Processes: []*ProcessConfig{
			{Name: "worker", Command: []string{"w"}, ProcessOptions: ProcessOptions{Watch: &WatchConfig{}}},
			{Name: "assets", Command: []string{"a"}, ProcessOptions: ProcessOptions{Watch: &WatchConfig{Patterns: []string{"**/*.js"}, Method: "poll"}}},
			{Name: "off", Command: []string{"o"}, ProcessOptions: ProcessOptions{Watch: &WatchConfig{}, Enabled: &off}},
			{Name: "plain", Command: []string{"p"}},
		},
	}
	if err := a.provisionWatch(); err != nil {
		t.Fatal(err)
	}
	if len(a.watch.targets) != 2 {
		t.Fatalf("%d watchers, want 2: %+v", len(a.watch.targets), a.watch.targets)
	}
	first, second := a.watch.targets[0], a.watch.targets[1]
	if !slices.Equal(first.groups, []string{"gunicorn", "worker"}) || !slices.Equal(first.opts.Patterns, defaultWatchPatterns) {
		t.Errorf("first watcher %+v, want gunicorn and worker on the default patterns", first)
	}
	if !slices.Equal(second.groups, []string{"assets"}) || second.opts.Method != "poll" {
		t.Errorf("second watcher %+v, want assets, polling", second)
	}
	if a.watch.apps["gunicorn"] != "a.wsgi" {
		t.Errorf("apps %v", a.watch.apps)
	}
	for _, w := range []*WatchConfig{{Method: "sometimes"}, {Patterns: []string{"[a"}}, {Exclude: []string{"{a"}}, {Debounce: -1}} {
		a := &App{Processes: []*ProcessConfig{{Name: "w", Command: []string{"w"}, ProcessOptions: ProcessOptions{Watch: w}}}}
		if err := a.provisionWatch(); err == nil {
			t.Errorf("%+v: no error", w)
		}
	}
}

// TestImportCheck runs the import check with the real Python on projects
// of its own: a module with a syntax error, a view that imports a missing
// module (Django imports views only at the first request: the check
// imports the URLconf), a good project.
func TestImportCheck(t *testing.T) {
	requireDjango(t)
	d := newDjangoProject(t)
	s := &spec{Dir: d.Root, Env: d.Env, launcher: []string{systemGunicorn}, ReadyTimeout: time.Minute}
	a := &App{}
	ctx := t.Context()
	if err := a.importCheck(ctx, s, "demo.wsgi:application"); err != nil {
		t.Fatalf("the demo project: %v", err)
	}

	views := filepath.Join(d.Root, "demo", "views.py")
	good := string(mustRead(t, views))
	mustWrite(t, views, good+"\nimport no_such_module_here\n")
	err := a.importCheck(ctx, s, "demo.wsgi:application")
	var ce *codeError
	if !errors.As(err, &ce) || !strings.Contains(ce.reason, "ModuleNotFoundError: No module named 'no_such_module_here'") ||
		!strings.Contains(ce.reason, "views.py, line ") || !strings.Contains(ce.traceback, "import no_such_module_here") {
		t.Errorf("a view importing a missing module: %#v, want the ModuleNotFoundError at views.py and its traceback", err)
	}

	mustWrite(t, views, good+brokenView)
	err = a.importCheck(ctx, s, "demo.wsgi:application")
	if !errors.As(err, &ce) || !strings.HasPrefix(ce.reason, "SyntaxError: ") || !strings.Contains(ce.reason, views+", line ") {
		t.Errorf("a syntax error: %#v, want the SyntaxError at %s", err, views)
	}

	mustWrite(t, views, good)
	if err := a.importCheck(ctx, s, "demo.nope:application"); !errors.As(err, &ce) || !strings.Contains(ce.reason, "No module named 'demo.nope'") {
		t.Errorf("a missing application module: %v", err)
	}
}

// TestCheckPython: the import check runs with the app's `python`, else
// the app server's launcher's Python (a `#!` line, an interpreter), else
// the python3 beside a binary launcher (a virtualenv's bin/uwsgi).
func TestCheckPython(t *testing.T) {
	bin := t.TempDir()
	mustWrite(t, filepath.Join(bin, "uwsgi"), "\x7fELF")
	mustWrite(t, filepath.Join(bin, "python3"), "\x7fELF")
	if err := os.Chmod(filepath.Join(bin, "python3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(bin, "uwsgi"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + ":/usr/bin"}
	for _, c := range []struct {
		python   string
		launcher []string
		want     string
	}{
		{"/opt/py/bin/python", []string{"gunicorn"}, "/opt/py/bin/python"},
		{"", []string{systemGunicorn}, systemPython},
		{"", []string{"/usr/bin/python3", "-m", "uvicorn"}, systemPython},
		{"", []string{"uwsgi", "--plugin", "python3"}, filepath.Join(bin, "python3")},
	} {
		a := &App{Python: c.python}
		if got := a.checkPython(&spec{launcher: c.launcher, Env: env}); len(got) != 1 || got[0] != c.want {
			t.Errorf("python %q, launcher %v: %v, want %s", c.python, c.launcher, got, c.want)
		}
	}
}

// TestWatchWorkersLoadTheirCodeAtStart: a worker that has served nothing
// yet when a broken view is saved serves the code of its generation, not
// the broken file: with `watch`, each worker imports the URLconf and its
// views as it starts (watch_app.py), where Django would import them at
// the worker's first request. No request is sent between the restart and
// the broken save, then 100 requests (over 3 Gunicorn workers and 2
// uvicorn workers) must all get the code the new generation started with.
func TestWatchWorkersLoadTheirCodeAtStart(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, entry string
		workers     int
	}{
		{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\twatch\n\t\t}", 3},
		{"uvicorn", "uvicorn demo.asgi:application {\n\t\t\twatch\n\t\t}", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
				return appServerConfig(s, admin, c.name, c.entry, c.workers, "")
			})
			s.waitState(c.name, StateRunning, 90*time.Second)
			s.watching(c.name)
			views := filepath.Join(s.project.Root, "demo", "views.py")
			editFile(t, views, `f"hello from django pid=`, `f"hello from new code pid=`)
			s.waitLog(90*time.Second, "the new generation", msgIs("the new code serves; the previous generation stops", isProcess(c.name)))
			mustWrite(t, views, string(mustRead(t, views))+brokenView)
			s.waitLog(90*time.Second, "the broken save's error", msgIs(
				"the new code does not start; the running generation keeps serving the previous code (the next change tries again)", isProcess(c.name)))
			bad := 0
			for range 100 {
				if code, body := httpGet(s.url("/hello/")); code != 200 || !strings.HasPrefix(body, "hello from new code") {
					bad++
					t.Logf("GET /hello/: %d %.80q", code, body)
				}
			}
			if bad > 0 {
				t.Errorf("%d of 100 requests did not get the running generation's code", bad)
			}
		})
	}
}
