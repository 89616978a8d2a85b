package caddydjango

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of each app server kind through a real Caddy: it serves
// the demo project through django_files, gets ready without logging an
// error, is restarted, redeployed, replaced by a reload and survives a
// SIGKILL of its master under load, keeps its PID over a reload that does
// not change it, and leaves nothing behind when Caddy stops (SIGTERM) or
// dies (SIGKILL).

// appServerCases are the servers (and Gunicorn worker classes) tested: the
// process name and the Caddyfile entry. Each serves a socket of its own
// per generation (appserver_switch.go): Caddy's requests never meet a
// server closing, as it stops, connections it has accepted but not read a
// request from yet.
var appServerCases = []struct {
	name, entry string
}{
	{"uvicorn", "uvicorn demo.asgi:application"},
	{"hypercorn", "hypercorn demo.asgi:application {\n\t\t\tcommand /usr/bin/hypercorn\n\t\t}"},
	{"daphne", "daphne demo.asgi:application {\n\t\t\tcommand /usr/bin/daphne\n\t\t}"},
	{"uwsgi", "uwsgi demo.wsgi:application {\n\t\t\tcommand /usr/bin/uwsgi --plugin python3\n\t\t}"},
	{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class gthread --threads 4\n\t\t}"},
	{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class gevent\n\t\t}"},
	{"gunicorn", "gunicorn demo.asgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class uvicorn.workers.UvicornWorker\n\t\t}"},
}

// appServerConfig renders the Caddyfile of an app server site: the entry
// with its bind and workers (daphne, one process, gets a longer
// stop_timeout for each worker instead, so that a change of workers still
// changes its entry), and a django_files site after siteLines.
func appServerConfig(s *djangoSite, admin, name, entry string, workers int, siteLines string) string {
	opts := fmt.Sprintf("\n\t\t\tworkers %d", workers)
	if name == "daphne" { // one process
		opts = fmt.Sprintf("\n\t\t\tstop_timeout %ds", 15+workers)
	}
	bind := fmt.Sprintf("\n\t\t\tbind 127.0.0.1:%d%s\n\t\t}", s.gport, opts)
	if strings.HasSuffix(entry, "}") {
		entry = strings.TrimSuffix(entry, "\n\t\t}") + bind
	} else {
		entry += " {" + bind
	}
	django := fmt.Sprintf("\t\troot %s\n\t\tenv DJANGO_SETTINGS_MODULE demo.settings\n\t\t%s", s.project.Root, entry)
	return globalBlock(admin, django) + fmt.Sprintf("\n:%d {\n\t%sdjango_files\n}\n", s.hport, siteLines)
}

// appServerSite runs Caddy with one app server entry (2 workers) and
// django_files, and waits until it is RUNNING.
func appServerSite(t *testing.T, name, entry string) *djangoSite {
	t.Helper()
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return appServerConfig(s, admin, name, entry, 2, "")
	})
	s.waitState(name, StateRunning, 90*time.Second)
	return s
}

// TestUvicornOneProcess: uvicorn without workers, run from a script as a
// virtualenv's bin/uvicorn is, serves its generation's own socket as well
// (uvicorn_sockets.py, through the script's #! Python) and fails no request
// while it is restarted.
func TestUvicornOneProcess(t *testing.T) {
	t.Parallel()
	script := filepath.Join(t.TempDir(), "uvicorn")
	if err := os.WriteFile(script, []byte("#!/usr/bin/python3\nimport uvicorn\nuvicorn.main()\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	entry := "uvicorn demo.asgi:application {\n\t\t\tcommand " + script + "\n\t\t}"
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return strings.Replace(appServerConfig(s, admin, "uvicorn", entry, 2, ""), "\n\t\t\tworkers 2", "", 1)
	})
	s.waitState("uvicorn", StateRunning, 90*time.Second)
	st := s.statuses()["uvicorn"]
	if n, _ := dialAddress(st.Socket); n != "unix" || groupMembers(st.PID) == nil || len(groupMembers(st.PID)) != 1 {
		t.Fatalf("uvicorn: socket %q, processes %v: want one process serving a unix socket of its own", st.Socket, groupMembers(st.PID))
	}
	if code, body := httpGet(s.url("/hello/")); code != 200 {
		t.Fatalf("GET /hello/: %d %s", code, body)
	}
	underLoad(t, s, false, "restart", false, func() {
		if code, body := s.post("/django/processes/uvicorn/restart"); code != 200 {
			t.Fatalf("restart: %d %s", code, body)
		}
	})
}

// TestUvicornReload: uvicorn's --reload (development) serves the
// generation's own socket too (its reloader's child gets both sockets from
// uvicorn_sockets.py), so it gets ready, serves through django_files, and
// serves a changed view once it has reloaded it.
func TestUvicornReload(t *testing.T) {
	t.Parallel()
	project := newDjangoProject(t)
	entry := "uvicorn demo.asgi:application {\n\t\t\targs --reload --reload-dir " + filepath.Join(project.Root, "demo") + "\n\t\t}"
	s := launchDjangoSite(t, project, func(s *djangoSite, admin string) string {
		return strings.Replace(appServerConfig(s, admin, "uvicorn", entry, 2, ""), "\n\t\t\tworkers 2", "", 1)
	})
	s.waitState("uvicorn", StateRunning, 90*time.Second)
	if code, body := httpGet(s.url("/hello/")); code != 200 || !strings.HasPrefix(body, "hello from django") {
		t.Fatalf("GET /hello/: %d %s", code, body)
	}
	views := filepath.Join(project.Root, "demo", "views.py")
	src, err := os.ReadFile(views)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), `f"hello from django pid=`, `f"hello again from django pid=`, 1)
	if changed == string(src) {
		t.Fatal("views.py has no hello view to change")
	}
	// uvicorn's StatReload notes each file's mtime on its first scan, 0.25 s
	// after it starts, and reloads when one grows: the change is written
	// again every second until it is served, in case the first write came
	// before that scan.
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		if i%10 == 0 {
			if err := os.WriteFile(views, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, body := httpGet(s.url("/hello/"))
		if code == 200 && strings.HasPrefix(body, "hello again from django") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("60 s after views.py changed, GET /hello/: %d %s; want the changed view", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// appServerTitle names a case: the server, and a Gunicorn worker class.
func appServerTitle(name, entry string) string {
	if i := strings.Index(entry, "--worker-class "); i > 0 {
		return name + " " + strings.Fields(entry[i:])[1]
	}
	return name
}

// TestAppServers, for each app server kind: it serves through
// django_files, gets ready without an error line, and under a load of
// POSTs fails no request while it is restarted, redeployed, replaced by a
// reload that changes its workers, or its master is SIGKILLed; a reload
// that does not change its entry keeps its PID; an answer in progress during
// a restart arrives whole (finishesAnswers); nothing is left after Caddy's
// SIGTERM.
func TestAppServers(t *testing.T) {
	for _, tc := range appServerCases {
		t.Run(appServerTitle(tc.name, tc.entry), func(t *testing.T) {
			t.Parallel()
			s := appServerSite(t, tc.name, tc.entry)
			if code, body := httpGet(s.url("/hello/")); code != 200 {
				t.Fatalf("GET /hello/ through django_files: %d %s", code, body)
			}
			pid := func() int { return s.statuses()[tc.name].PID }
			if tc.name == "daphne" {
				// one process: django_files keeps its connections (10 s)
				_, port, _ := net.SplitHostPort(s.statuses()[tc.name].Socket)
				gen, _ := strconv.Atoi(port)
				for range 3 {
					httpGet(s.url("/hello/"))
				}
				if n := countEstablishedTo(gen); n != 1 {
					t.Errorf("daphne: %d connections after 4 sequential requests, want 1 kept and reused", n)
				}
			}
			isErr := func(e logEntry) bool {
				return e.str("logger") == "django."+tc.name && e.str("level") == "error"
			}
			if bad := s.entries(isErr); len(bad) > 0 {
				t.Errorf("error lines while it got ready: %v", bad)
			}
			// the readiness probe is answered by the server, never by Django
			if seen := s.entries(func(e logEntry) bool {
				return e.str("logger") == "django."+tc.name && strings.Contains(e.str("msg"), "readiness")
			}); len(seen) > 0 {
				t.Errorf("the readiness probe reached the app or its log: %v", seen)
			}

			before := pid()
			underLoad(t, s, false, "a reload that does not change it", true, func() {
				if err := s.reload(appServerConfig(s, s.admin, tc.name, tc.entry, 2, "header X-Rev 1\n\t")); err != nil {
					t.Fatal(err)
				}
			})
			if pid() != before {
				t.Errorf("a reload that does not change %s replaced it: %d -> %d", tc.name, before, pid())
			}

			t.Run("answers in progress during a restart", func(t *testing.T) { finishesAnswers(t, s, tc.name) })

			replacedBy := func(event string, reload, losesSome bool, do func()) {
				t.Helper()
				before, socket := pid(), s.statuses()[tc.name].Socket
				underLoad(t, s, losesSome, event, reload, do)
				if pid() == before || testkit.Alive(before) {
					t.Errorf("%s: old master %d should be gone (now %d)", event, before, pid())
				}
				// django_files dials a unix socket of each generation's
				// own (daphne: TCP), kept across a crash-restart and
				// removed with its generation
				network, path := dialAddress(socket)
				if want := map[bool]string{true: "tcp", false: "unix"}[tc.name == "daphne"]; network != want {
					t.Errorf("generation socket %q: want %s", socket, want)
				}
				now := s.statuses()[tc.name].Socket
				if crash := strings.HasPrefix(event, "SIGKILL"); now == socket && !crash {
					t.Errorf("%s: generation socket %q kept", event, socket)
				}
				if network == "unix" && now != socket {
					waitFor(t, 30*time.Second, func() bool {
						_, err := os.Stat(filepath.Dir(path))
						return os.IsNotExist(err)
					}, event+": the old generation's socket directory removed")
				}
			}
			replacedBy("restart", false, false, func() {
				if code, body := s.post("/django/processes/" + tc.name + "/restart"); code != 200 {
					t.Fatalf("restart: %d %s", code, body)
				}
			})
			replacedBy("deploy", false, false, func() {
				if code, body := s.post("/django/reload"); code != 200 {
					t.Fatalf("deploy: %d %s", code, body)
				}
			})
			replacedBy("a reload that changes its workers", true, false, func() {
				if err := s.reload(appServerConfig(s, s.admin, tc.name, tc.entry, 3, "")); err != nil {
					t.Fatal(err)
				}
			})
			if st := s.statuses()[tc.name]; tc.name != "daphne" && !strings.Contains(strings.Join(st.Command, " "), "--workers 3") {
				t.Errorf("after the reload %s runs %v", tc.name, st.Command)
			}

			// a request in flight inside the killed master (daphne: one
			// process) or in its workers, which end themselves when it is
			// gone (uWSGI), is lost: counted (README); hypercorn's workers
			// serve on until a new master does (keepOrphans)
			killLoses := tc.name == "daphne" || tc.name == "uwsgi"
			replacedBy("SIGKILL of the master", false, killLoses, func() {
				before := pid()
				if err := syscall.Kill(before, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 60*time.Second, func() bool {
					st := s.statuses()[tc.name]
					return st.State == StateRunning && st.PID != before
				}, "a new "+tc.name)
			})
			if bad := s.entries(isErr); len(bad) > 0 {
				t.Errorf("error lines: %v", bad)
			}

			members := groupMembers(pid())
			if len(members) < 2 && tc.name != "daphne" {
				t.Fatalf("want a master and workers, got %v", members)
			}
			s.signalAndWait(syscall.SIGTERM, 60*time.Second)
			for _, m := range members {
				if testkit.Alive(m) {
					t.Errorf("process %d left running after Caddy stopped", m)
				}
			}
		})
	}
}

// finishesAnswers: an answer the app server is sending when it is
// restarted arrives whole, through django_files (the old generation gets its
// stop signal once the answer is complete) and, but for daphne, from its
// bind (its stop is graceful). The answer (POST /held/) sends half, then
// the rest once the test creates a file: after the old master got its stop
// signal, or while Caddy waits for the answer before sending it.
func finishesAnswers(t *testing.T, s *djangoSite, name string) {
	vias := []struct{ via, url string }{{"through django_files", s.url("/held/")}}
	if name != "daphne" { // its stop cancels every application instance (docs/caddyfile.md)
		vias = append(vias, struct{ via, url string }{"from its bind", fmt.Sprintf("http://127.0.0.1:%d/held/", s.gport)})
	}
	release := filepath.Join(s.project.Root, "held_release")
	for _, v := range vias {
		if err := os.Remove(release); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		sent := time.Now()
		resp, err := (&http.Client{Timeout: 120 * time.Second}).Post(v.url, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatalf("%s: %v", v.via, err)
		}
		half := make([]byte, 1000)
		if _, err := io.ReadFull(resp.Body, half); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d, first half: %v", v.via, resp.StatusCode, err)
		}
		if took := time.Since(sent); took > 30*time.Second { // /held/ sends the rest after 60s
			t.Fatalf("%s: the first half took %s: it came with the rest, not on its own", v.via, took)
		}
		old := s.statuses()[name].PID
		restarted := make(chan string, 1)
		go func() {
			resp, err := adminClient.Post("http://"+s.admin+"/django/processes/"+name+"/restart", "", nil)
			if err != nil {
				restarted <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			restarted <- fmt.Sprintf("%d %s", resp.StatusCode, body)
		}()
		s.waitLog(120*time.Second, "the old "+name+" stopping or waiting for the answer", func(e logEntry) bool {
			return e.str("process") == name && e.num("pid") == old &&
				(e.str("msg") == "stopping process" || e.str("msg") == "waiting for answers in progress before stopping")
		})
		if err := os.WriteFile(release, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		rest, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(rest) != 1000 {
			t.Errorf("%s: an answer in progress during a restart was cut off: %d of 2000 bytes, %v", v.via, 1000+len(rest), err)
		}
		if got := <-restarted; !strings.HasPrefix(got, "200 ") {
			t.Fatalf("restart: %s", got)
		}
	}
}

// twoServersConfig: Gunicorn (WSGI) and uvicorn named ws (ASGI, its own
// bind) in one config; /asgi/* goes to ws through `django_files { app ws }`.
func twoServersConfig(s *djangoSite, admin string, wsPort, wsWorkers int) string {
	django := fmt.Sprintf(`		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			workers 2
		}
		uvicorn demo.asgi:application {
			name ws
			bind 127.0.0.1:%d
			workers %d
		}`, s.project.Root, systemGunicorn, s.gport, wsPort, wsWorkers)
	return globalBlock(admin, django) + fmt.Sprintf(`
:%d {
	handle_path /asgi/* {
		django_files {
			app ws
		}
	}
	handle {
		django_files
	}
}
`, s.hport)
}

// Two app servers in one config, each request routed to the one its
// django_files names; a reload that changes one replaces only that one.
func TestTwoAppServers(t *testing.T) {
	t.Parallel()
	wsPort := freePort(t)
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return twoServersConfig(s, admin, wsPort, 2)
	})
	s.waitState(gunicornName, StateRunning, 90*time.Second)
	s.waitState("ws", StateRunning, 90*time.Second)
	// a GET that got no answer is sent again: Caddy swaps its listeners on
	// a reload, and a new connection can be reset by the old one
	servedBy := func(path string) int {
		t.Helper()
		resp := getAfterReload(t, s.url(path))
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code, body := resp.StatusCode, string(b)
		var got struct{ PPID int }
		if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return got.PPID
	}
	st := s.statuses()
	if got := servedBy("/pid/"); got != st[gunicornName].PID {
		t.Errorf("/pid/ served by a worker of %d, want gunicorn %d", got, st[gunicornName].PID)
	}
	if got := servedBy("/asgi/pid/"); got != st["ws"].PID {
		t.Errorf("/asgi/pid/ served by a worker of %d, want ws %d", got, st["ws"].PID)
	}
	if st["ws"].Server != "uvicorn" || st[gunicornName].Server != "gunicorn" {
		t.Errorf("servers in status: %q, %q", st["ws"].Server, st[gunicornName].Server)
	}

	// (TestAppServers puts each kind under load through such reloads)
	if err := s.reload(twoServersConfig(s, s.admin, wsPort, 3)); err != nil {
		t.Fatal(err)
	}
	after := s.statuses()
	if after[gunicornName].PID != st[gunicornName].PID {
		t.Errorf("gunicorn restarted by a reload that changed only ws: %d -> %d", st[gunicornName].PID, after[gunicornName].PID)
	}
	if after["ws"].PID == st["ws"].PID || testkit.Alive(st["ws"].PID) {
		t.Errorf("ws %d should be replaced and gone (now %d)", st["ws"].PID, after["ws"].PID)
	}
	if got := servedBy("/asgi/pid/"); got != after["ws"].PID {
		t.Errorf("/asgi/pid/ after the reload served by a worker of %d, want ws %d", got, after["ws"].PID)
	}
}

// underLoad runs do under two loads, GETs of /hello/ and POSTs to
// /echo-size/ (requests through a config reload's front-end swap aside, see
// load): no request may fail, except with a server that closes connections
// it has not read when it stops, or a master SIGKILLed with requests in it
// (losesSome): those are counted (a known limit, README; django_files
// sends no request twice, GET or POST). reload: do reloads Caddy's config.
func underLoad(t *testing.T, s *djangoSite, losesSome bool, event string, reload bool, do func()) {
	t.Helper()
	gets := startLoadOpts(testkit.Clients{}, s.url("/hello/"), reload)
	posts := startPostLoad(t, s.url("/echo-size/"), reload)
	do()
	if losesSome {
		gets.note(t, event+" (GET)")
		posts.note(t, event+" (POST)")
	} else {
		gets.stop(t, event+" (GET)")
		posts.stop(t, event+" (POST)")
	}
}

// note is stop for a known limit (README, Status and limits): it logs the failed requests
// instead of failing the test.
func (l *load) note(t *testing.T, event string) {
	t.Helper()
	after := l.total.Load() + 200
	waitFor(t, 60*time.Second, func() bool { return l.total.Load() >= after }, "requests after "+event)
	l.halt()
	t.Logf("%s: %d of %d requests failed (known limit, see README): %v", event, l.failed.Load(), l.total.Load(), l.errors)
}

// TestSIGKILLedCaddyLeavesNoAppServer, for each app server kind (and
// Gunicorn's sync workers): when Caddy is SIGKILLed, every process of the
// server's group dies within seconds and nothing keeps listening on its
// bind.
func TestSIGKILLedCaddyLeavesNoAppServer(t *testing.T) {
	cases := append([]struct {
		name, entry string
	}{{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t}"}}, appServerCases...)
	for _, tc := range cases {
		t.Run(appServerTitle(tc.name, tc.entry), func(t *testing.T) {
			t.Parallel()
			s := appServerSite(t, tc.name, tc.entry)
			master := s.statuses()[tc.name].PID
			var members []int
			waitFor(t, 30*time.Second, func() bool {
				members = groupMembers(master)
				return len(members) >= 3 || tc.name == "daphne"
			}, "a master and its 2 workers")
			s.signalAndWait(syscall.SIGKILL, 10*time.Second)
			waitFor(t, 10*time.Second, func() bool { return !slices.ContainsFunc(members, testkit.Alive) },
				"every process of "+tc.name+"'s group to die after Caddy's SIGKILL")
			// a worker forked after the snapshot of the group may hold it a little longer
			waitFor(t, 15*time.Second, func() bool {
				ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", s.gport))
				if err == nil {
					ln.Close()
				}
				return err == nil
			}, tc.name+"'s bind to be free after Caddy died")
		})
	}
}

// TestWorkersOutliveTheirMaster: when the master is SIGKILLed, the workers
// of servers that serve on without it (hypercorn's, which would die at once
// on its stop signal; uvicorn's and Gunicorn's UvicornWorker, whose stop
// closes the connections they accepted and have not read) keep serving
// while the new master starts, finish the answer they are sending through
// django_files, and are stopped once the new master serves.
func TestWorkersOutliveTheirMaster(t *testing.T) {
	for _, tc := range []struct{ name, entry string }{
		{"hypercorn", "hypercorn demo.asgi:application {\n\t\t\tcommand /usr/bin/hypercorn\n\t\t}"},
		{"uvicorn", "uvicorn demo.asgi:application"},
		{"gunicorn", "gunicorn demo.asgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class uvicorn.workers.UvicornWorker\n\t\t}"},
	} {
		t.Run(appServerTitle(tc.name, tc.entry), func(t *testing.T) {
			t.Parallel()
			s := appServerSite(t, tc.name, tc.entry)
			resp, err := (&http.Client{Timeout: 120 * time.Second}).Post(s.url("/held/"), "text/plain", strings.NewReader("x"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil || resp.StatusCode != 200 {
				t.Fatalf("first half: %d %v", resp.StatusCode, err)
			}
			old := s.statuses()[tc.name].PID
			workers := map[int]bool{}
			for _, pid := range groupMembers(old) {
				workers[pid] = pid != old
			}
			// the new master's workers take 8 s to load the app
			slow := filepath.Join(s.project.Root, "slow_start")
			mustWrite(t, slow, "8")
			if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			s.waitLog(30*time.Second, "the new master's launch", func(e logEntry) bool {
				return e.str("msg") == "process started" && e.str("process") == tc.name && e.num("pid") != old
			})
			// meanwhile the killed master's workers answer on its bind
			begin := time.Now()
			code, body := httpGet(fmt.Sprintf("http://127.0.0.1:%d/hello/", s.gport))
			pid, _ := strconv.Atoi(strings.TrimPrefix(body, "hello from django pid="))
			if code != 200 || !workers[pid] || time.Since(begin) > 3*time.Second {
				t.Errorf("GET on the bind while the new master starts: %d %q after %s, want an answer at once from a worker of the killed master %v",
					code, body, time.Since(begin).Round(time.Millisecond), workers)
			}
			if err := os.Remove(slow); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 60*time.Second, func() bool {
				st := s.statuses()[tc.name]
				return st.State == StateRunning && st.PID != old
			}, "a new "+tc.name)
			mustWrite(t, filepath.Join(s.project.Root, "held_release"), "")
			rest, err := io.ReadAll(resp.Body)
			if err != nil || len(rest) != 1000 {
				t.Errorf("the answer a worker of the killed master was sending: %d of 2000 bytes, %v", 1000+len(rest), err)
			}
			waitFor(t, 30*time.Second, func() bool { return len(groupMembers(old)) == 0 }, "the old workers to be stopped")
		})
	}
}
