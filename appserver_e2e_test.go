package caddydjango

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of each app server kind through a real Caddy: it serves
// the demo project through django_files, gets ready without logging an
// error, is restarted and survives a SIGKILL of its master with no failed
// request under load, and leaves nothing behind when Caddy stops.

// appServerCases are the servers (and Gunicorn worker classes) tested: the
// Caddyfile entry and the process name.
var appServerCases = []struct{ name, entry string }{
	{"uvicorn", "uvicorn demo.asgi:application"},
	{"hypercorn", "hypercorn demo.asgi:application {\n\t\t\tcommand /usr/bin/hypercorn\n\t\t}"},
	{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class gthread --threads 4\n\t\t}"},
	{"gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class gevent\n\t\t}"},
	{"gunicorn", "gunicorn demo.asgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class uvicorn.workers.UvicornWorker\n\t\t}"},
}

// appServerSite runs Caddy with one app server entry (given its bind and 2
// workers) and django_files, and waits until it is RUNNING.
func appServerSite(t *testing.T, name, entry string) *djangoSite {
	t.Helper()
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		bind := fmt.Sprintf("\n\t\t\tbind 127.0.0.1:%d\n\t\t\tworkers 2\n\t\t}", s.gport)
		if strings.HasSuffix(entry, "}") {
			entry = strings.TrimSuffix(entry, "\n\t\t}") + bind
		} else {
			entry += " {" + bind
		}
		django := fmt.Sprintf("\t\troot %s\n\t\tenv DJANGO_SETTINGS_MODULE demo.settings\n\t\t%s", s.project.Root, entry)
		return globalBlock(admin, django) + fmt.Sprintf("\n:%d {\n\tdjango_files\n}\n", s.hport)
	})
	s.waitState(name, StateRunning, 90*time.Second)
	return s
}

func TestAppServers(t *testing.T) {
	for _, tc := range appServerCases {
		title := tc.name
		if i := strings.Index(tc.entry, "--worker-class "); i > 0 {
			title += " " + strings.Fields(tc.entry[i:])[1]
		}
		t.Run(title, func(t *testing.T) {
			t.Parallel()
			s := appServerSite(t, tc.name, tc.entry)
			hello := s.url("/hello/")
			if code, body := httpGet(hello); code != 200 {
				t.Fatalf("GET /hello/ through django_files: %d %s", code, body)
			}
			pid := func() int { return s.statuses()[tc.name].PID }
			isErr := func(e logEntry) bool {
				return e.str("logger") == "django."+tc.name && e.str("level") == "error"
			}
			if bad := s.entries(isErr); len(bad) > 0 {
				t.Errorf("error lines while it got ready: %v", bad)
			}

			before := pid()
			l := startSteadyLoad(t, hello)
			if code, body := s.post("/django/processes/" + tc.name + "/restart"); code != 200 {
				t.Fatalf("restart: %d %s", code, body)
			}
			l.stop(t, "restart")
			if pid() == before || testkit.Alive(before) {
				t.Errorf("restart: old master %d should be gone (now %d)", before, pid())
			}

			before = pid()
			l = startSteadyLoad(t, hello)
			if err := syscall.Kill(before, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 60*time.Second, func() bool {
				st := s.statuses()[tc.name]
				return st.State == StateRunning && st.PID != before
			}, "a new "+tc.name)
			l.stop(t, "SIGKILL of the master")
			if bad := s.entries(isErr); len(bad) > 0 {
				t.Errorf("error lines: %v", bad)
			}

			members := groupMembers(pid())
			if len(members) < 2 {
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
