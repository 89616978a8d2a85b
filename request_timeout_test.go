package caddydjango

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Tests of django_files' `timeout` and `on_timeout` (request_timeout.go):
// a view stuck for 300 s gets its client a 504 at the deadline, once (the
// request is not sent again), the log names the worker holding it, and
// with `recycle` that worker is replaced (sync, gthread and uvicorn worker
// classes) with its Python stack in the log; streams and uploads are not
// cut.

// TestTimeoutCaddyfile: the options adapt; bad values fail `caddy adapt`
// with the line.
func TestTimeoutCaddyfile(t *testing.T) {
	got, err := adaptFiles(t, ":80 {\n\tdjango_files {\n\t\tupstream 127.0.0.1:9\n\t\ttimeout 30s\n\t\ton_timeout log\n\t}\n}")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `"on_timeout":"log"`) || !strings.Contains(got, `"timeout":30000000000`) {
		t.Errorf("adapted to %s: want timeout 30s and on_timeout log", got)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"negative", ":80 {\n\tdjango_files {\n\t\ttimeout -1s\n\t}\n}", `Caddyfile:3 - Error during parsing: timeout: "-1s" must be positive`},
		{"zero", ":80 {\n\tdjango_files {\n\t\ttimeout 0s\n\t}\n}", `Caddyfile:3 - Error during parsing: timeout: "0s" must be positive`},
		{"not a duration", ":80 {\n\tdjango_files {\n\t\ttimeout long\n\t}\n}", `Caddyfile:3 - Error during parsing: timeout: "long" is not a duration`},
		{"unknown action", ":80 {\n\tdjango_files {\n\t\ttimeout 5s\n\t\ton_timeout kill\n\t}\n}", `Caddyfile:4 - Error during parsing: on_timeout: "kill": want log or recycle`},
		{"recycle without timeout", ":80 {\n\tdjango_files {\n\t\ton_timeout recycle\n\t}\n}", `Caddyfile:4 - Error during parsing: on_timeout recycle needs a timeout, e.g. timeout 30s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptFiles(t, tc.in)
			wantAdaptError(t, err, tc.want)
		})
	}
}

// TestTimeoutProvisionErrors: JSON configs that cannot work are refused
// by `caddy validate`.
func TestTimeoutProvisionErrors(t *testing.T) {
	for _, tc := range []struct{ name, handler, want string }{
		{"negative", `{"handler":"django_files","upstream":"127.0.0.1:9","timeout":-1000000000}`, "timeout must be positive, got -1s"},
		{"unknown action", `{"handler":"django_files","upstream":"127.0.0.1:9","timeout":1000000000,"on_timeout":"kill"}`, `on_timeout "kill": want log or recycle`},
		{"recycle without app server", `{"handler":"django_files","upstream":"127.0.0.1:9","timeout":1000000000,"on_timeout":"recycle"}`, "on_timeout recycle needs an app server of the django app to recycle"},
		{"recycle without timeout", `{"handler":"django_files","upstream":"127.0.0.1:9","on_timeout":"recycle"}`, "on_timeout recycle needs a timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg caddy.Config
			raw := `{"admin":{"disabled":true},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[` + tc.handler + `]}]}}}}}`
			if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Fatal(err)
			}
			if err := caddy.Validate(&cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestTimeoutWriter: whichever comes first of the answer and the deadline
// wins: an answer begun is passed on whole; after the deadline an answer is
// discarded (and cannot take the connection), and the 504 carries the
// headers set before the proxy, not the discarded answer's.
func TestTimeoutWriter(t *testing.T) {
	newWriter := func() (*timeoutWriter, *httptest.ResponseRecorder, http.Header) {
		rec := httptest.NewRecorder()
		rec.Header().Set("Strict-Transport-Security", "max-age=60")
		before := rec.Header().Clone()
		return &timeoutWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: rec}, a: &timedAnswer{fired: make(chan struct{})}}, rec, before
	}

	w, rec, _ := newWriter()
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "whole")
	if w.a.state.CompareAndSwap(answerWaiting, answerTimedOut) {
		t.Fatal("the deadline won over an answer that had begun")
	}
	if rec.Code != http.StatusOK || rec.Body.String() != "whole" {
		t.Errorf("begun answer: %d %q, want 200 whole", rec.Code, rec.Body.String())
	}

	w, rec, before := newWriter()
	if !w.a.state.CompareAndSwap(answerWaiting, answerTimedOut) {
		t.Fatal("the deadline lost to no answer")
	}
	w.Header().Set("Content-Length", "1000") // what reverse_proxy copies from a late answer
	w.WriteHeader(http.StatusOK)
	if n, err := io.WriteString(w, "late"); n != 4 || err != nil {
		t.Errorf("late write = %d, %v; want it discarded quietly", n, err)
	}
	if _, _, err := w.Hijack(); err == nil {
		t.Error("a timed-out request's connection could be hijacked")
	}
	if err := w.writeTimeout(before); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusGatewayTimeout || rec.Body.String() != timeoutBody ||
		rec.Header().Get("Content-Length") != "" || rec.Header().Get("Strict-Transport-Security") != "max-age=60" {
		t.Errorf("504: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
}

// timeoutSite runs Caddy with Gunicorn (2 workers, gunicornExtra in its
// entry) and django_files with the timeout lines.
func timeoutSite(t *testing.T, gunicornExtra, timeoutLines string) *djangoSite {
	t.Helper()
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return s.config(admin, 2, gunicornExtra, "", "django_files {\n\t\t"+timeoutLines+"\n\t}")
	})
	s.waitState(gunicornName, StateRunning, 90*time.Second)
	return s
}

// stuckRequest sends method /stuck/ (a view that sleeps 300 s) and checks
// that the 504 came, with its short body (timeoutLogged checks that the
// handler answered within 2.5 s); it returns the pid of the worker the
// view ran in (from its log line).
func stuckRequest(t *testing.T, s *djangoSite, method string) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.url("/stuck/"), strings.NewReader("x=1"))
	start := time.Now()
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusGatewayTimeout || string(body) != timeoutBody || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%s /stuck/: %d %q %v; want 504 with its short body", method, resp.StatusCode, body, resp.Header)
	}
	// the client's own wait also counts Caddy reading the request, which
	// a busy machine delays; the handler's time is in the log (took)
	if took < 2*time.Second || took > 10*time.Second {
		t.Errorf("the 504 came after %v; want it at the 2s deadline", took)
	}
	line := s.waitLog(10*time.Second, "the stuck view's line", func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "stuck: pid=") })
	pid, _ := strconv.Atoi(strings.Fields(strings.TrimPrefix(line.str("msg"), "stuck: pid="))[0])
	if pid <= 0 {
		t.Fatalf("no pid in %v", line)
	}
	return pid
}

// timeoutLogged waits for the time-out's error log entry and checks that it
// names the request, the app server and the worker pid, and that the 504
// was answered within 2.5 s of sending the request to the app server.
func timeoutLogged(t *testing.T, s *djangoSite, server, method string, worker int, onTimeout string) {
	t.Helper()
	e := s.waitLog(10*time.Second, "the time-out logged", msgIs("request timed out: the app server did not begin its answer in time; answered 504"))
	took, _ := e["took"].(float64)
	if e.str("level") != "error" || e.str("method") != method || e.str("path") != "/stuck/" || e.str("app_server") != server ||
		e.num("worker_pid") != worker || took < 2 || took >= 2.5 || e.str("on_timeout") != onTimeout {
		t.Errorf("time-out log entry %v: want error level, %s /stuck/, %s, worker_pid %d, took 2s to 2.5s, on_timeout %s", e, method, server, worker, onTimeout)
	}
}

// TestRequestTimeout: a GET of a view stuck for 300 s gets a 504 at the 2 s
// deadline; the view ran once (reverse_proxy did not send the GET again:
// had it, the other worker would be stuck too and the next requests would
// time out); the log names the worker, which is left alone (on_timeout
// log); the metric counts it.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	s := timeoutSite(t, "", "timeout 2s")
	pid := stuckRequest(t, s, http.MethodGet)
	timeoutLogged(t, s, gunicornName, http.MethodGet, pid, "log")
	for i := range 4 {
		if code, body := httpGet(s.url("/hello/")); code != http.StatusOK {
			t.Fatalf("request %d after the time-out: %d %s; want the other worker to answer", i, code, body)
		}
	}
	if n := len(s.entries(func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "stuck: pid=") })); n != 1 {
		t.Errorf("the stuck view ran %d times, want once (the request was sent again)", n)
	}
	if !testkit.Alive(pid) || len(s.entries(func(e logEntry) bool { return e.str("reason") == recycleTimeout })) > 0 {
		t.Errorf("on_timeout log recycled worker %d", pid)
	}
	if got := s.scrape()[`caddy_django_request_timeouts_total{app_server="gunicorn"}`]; got != 1 {
		t.Errorf("caddy_django_request_timeouts_total = %v, want 1", got)
	}
}

// TestRequestTimeoutRecycle, for each app server kind and Gunicorn's sync,
// gthread and uvicorn worker classes: with on_timeout recycle and
// PYTHONFAULTHANDLER set, the worker holding a POST that timed out writes
// its Python stack (the stuck view in it) to the log and is replaced: by
// its master (Gunicorn's sync and gthread workers, uWSGI), or by a new
// generation (the others); the next requests succeed.
func TestRequestTimeoutRecycle(t *testing.T) {
	faulthandler := "\n\t\t\tenv PYTHONFAULTHANDLER 1\n\t\t}"
	for _, tc := range []struct {
		title, name, entry string
		perWorker          bool
	}{
		{"gunicorn sync", "gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + faulthandler, true},
		{"gunicorn gthread", "gunicorn", "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class gthread --threads 4" + faulthandler, true},
		{"gunicorn uvicorn worker", "gunicorn", "gunicorn demo.asgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t\targs --worker-class uvicorn.workers.UvicornWorker" + faulthandler, false},
		{"uwsgi", "uwsgi", "uwsgi demo.wsgi:application {\n\t\t\tcommand /usr/bin/uwsgi --plugin python3" + faulthandler, true},
		{"uvicorn", "uvicorn", "uvicorn demo.asgi:application {" + faulthandler, false},
		{"hypercorn", "hypercorn", "hypercorn demo.asgi:application {\n\t\t\tcommand /usr/bin/hypercorn" + faulthandler, false},
		{"daphne", "daphne", "daphne demo.asgi:application {\n\t\t\tcommand /usr/bin/daphne" + faulthandler, false},
	} {
		t.Run(tc.title, func(t *testing.T) {
			t.Parallel()
			s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
				cfg := appServerConfig(s, admin, tc.name, tc.entry, 2, "")
				return strings.Replace(cfg, "django_files\n}", "django_files {\n\t\ttimeout 2s\n\t\ton_timeout recycle\n\t}\n}", 1)
			})
			first := s.waitState(tc.name, StateRunning, 90*time.Second)
			pid := stuckRequest(t, s, http.MethodPost)
			timeoutLogged(t, s, tc.name, http.MethodPost, pid, "recycle")
			msg := "recycling a worker: it stops when its requests are answered and its master starts another"
			if !tc.perWorker {
				msg = "recycling: a new generation replaces it once it serves, then it stops gracefully"
			}
			e := s.waitLog(10*time.Second, "the recycle", msgIs(msg, isProcess(tc.name)))
			if e.str("level") != "warn" || e.str("reason") != recycleTimeout || e.num("worker_pid") != pid {
				t.Errorf("recycle log entry %v: want warn, reason timeout, worker_pid %d", e, pid)
			}
			s.waitLog(60*time.Second, "the stuck worker's Python stack", func(e logEntry) bool {
				return e.str("logger") == "django."+tc.name && strings.Contains(e.str("msg"), "views.py") && strings.HasSuffix(e.str("msg"), " in stuck")
			})
			waitFor(t, 60*time.Second, func() bool { return !testkit.Alive(pid) }, fmt.Sprintf("the stuck worker %d gone", pid))
			var st ProcessStatus
			waitFor(t, 90*time.Second, func() bool {
				st = s.statuses()[tc.name]
				return st.State == StateRunning && (tc.perWorker || st.PID != first.PID)
			}, tc.name+" serving after the recycle")
			if tc.perWorker && st.PID != first.PID {
				t.Errorf("the master changed (%d -> %d): want the worker replaced by its master", first.PID, st.PID)
			}
			if st.Recycles != 1 || !strings.HasPrefix(st.LastRecycle, fmt.Sprintf("timeout: worker %d held a request past 2s", pid)) {
				t.Errorf("status recycles %d, last_recycle %q", st.Recycles, st.LastRecycle)
			}
			for i := range 6 {
				code, body := postStatusBody(s.url("/echo-size/"))
				if code != http.StatusOK {
					t.Fatalf("POST %d after the recycle: %d %s", i, code, body)
				}
			}
			metric := fmt.Sprintf(`caddy_django_process_recycles_total{process="%s",reason="timeout"}`, tc.name)
			if got := s.scrape()[metric]; got != 1 {
				t.Errorf("%s = %v, want 1", metric, got)
			}
		})
	}
}

// postStatusBody POSTs a small body and returns the status and body.
func postStatusBody(url string) (int, string) {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post(url, "application/x-www-form-urlencoded", strings.NewReader("x=1"))
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRequestTimeoutSparesStreamsAndUploads: with a 1 s timeout, an event
// stream and a websocket that last longer are not cut (their answer began
// in time), and an upload sent slowly over 2 s is answered (the time-out
// starts once django_files has the body).
func TestRequestTimeoutSparesStreamsAndUploads(t *testing.T) {
	t.Run("uvicorn streams", func(t *testing.T) {
		t.Parallel()
		s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
			cfg := appServerConfig(s, admin, "uvicorn", "uvicorn demo.asgi:application", 2, "")
			return strings.Replace(cfg, "django_files\n}", "django_files {\n\t\ttimeout 1s\n\t}\n}", 1)
		})
		s.waitState("uvicorn", StateRunning, 90*time.Second)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(s.url("/events/"))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		events, _ := io.ReadAll(bufio.NewReader(resp.Body))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(events), "data: 2") || time.Since(start) < time.Second {
			t.Errorf("event stream past the 1s timeout: %d %q after %v; want all three events", resp.StatusCode, events, time.Since(start))
		}
		ws, err := testkit.DialWebsocket(fmt.Sprintf("127.0.0.1:%d", s.hport), "/ws/echo/", 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		wsEcho(t, ws, "before")
		time.Sleep(1500 * time.Millisecond) // the subject: open past the timeout
		wsEcho(t, ws, "after the timeout")
		if n := len(s.entries(msgIs("request timed out: the app server did not begin its answer in time; answered 504"))); n > 0 {
			t.Errorf("%d time-outs logged", n)
		}
	})
	t.Run("gunicorn slow upload", func(t *testing.T) {
		t.Parallel()
		s := timeoutSite(t, "", "timeout 1s")
		pr, pw := io.Pipe()
		go func() {
			for range 4 {
				_, _ = pw.Write([]byte(strings.Repeat("u", 1000)))
				time.Sleep(600 * time.Millisecond)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, s.url("/echo-size/"), pr)
		req.ContentLength = 4000
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"size": 4000`) {
			t.Errorf("an upload sent over 2.4s with a 1s timeout: %d %s; want it answered", resp.StatusCode, body)
		}
	})
}
