package caddydjango

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBrokenAppIsReported: `gunicorn nope.wsgi:application` (an app that
// cannot be imported) through a real Caddy and a real Gunicorn.
//   - last_error is Python's exception line, and each failed start logs it
//     once at error level ("process exited before it was started", with
//     `error`); the FATAL entry carries it too;
//   - Gunicorn's traceback and [ERROR] lines are error level, its [INFO]
//     lines info;
//   - a request sent while Gunicorn is still starting gets its 503 as soon
//     as Gunicorn is FATAL, and one sent once it is FATAL at once; both
//     with Retry-After and a short body that gives nothing away.
func TestBrokenAppIsReported(t *testing.T) {
	t.Parallel()
	s := startDjangoSiteReplacing(t, 1, "startretries 1", "demo.wsgi:application", "nope.wsgi:application")
	const want = "No module named 'nope'"

	// a POST sent while Gunicorn is still starting (1 + 1 retry, 1 s
	// backoff: FATAL after a few seconds)
	if st := s.statuses()[gunicornName]; st.State == StateFatal {
		t.Fatalf("gunicorn FATAL before the first request: %+v", st)
	}
	early := make(chan time.Time, 1)
	go func() {
		r := post503(t, s.url("/slow-post/?seconds=0"))
		early <- r
	}()

	st := s.waitState(gunicornName, StateFatal, 60*time.Second)
	if !strings.Contains(st.LastError, want) {
		t.Errorf("last_error %q, want Python's exception line (%s)", st.LastError, want)
	}
	fatal := s.waitLog(10*time.Second, "the FATAL entry", msgIs("process is FATAL: too many failed starts", isProcess(gunicornName)))
	if fatal.str("level") != "error" || !strings.Contains(fatal.str("last_error"), want) {
		t.Errorf("FATAL entry %v, want level error with last_error", fatal)
	}
	failed := s.entries(msgIs("process exited before it was started", isProcess(gunicornName)))
	if len(failed) != 2 {
		t.Errorf("%d failed-start entries, want one per start (2)", len(failed))
	}
	for _, e := range failed {
		if e.str("level") != "error" || !strings.Contains(e.str("error"), want) || e.str("exit") != "exit status 3" {
			t.Errorf("failed-start entry %v, want level error, error %q, exit status 3", e, want)
		}
	}

	// the early request: answered right after FATAL, not after wait_timeout
	select {
	case at := <-early:
		fatalAt := time.Unix(0, int64(fatal["ts"].(float64)*1e9))
		if late := at.Sub(fatalAt); late > time.Second {
			t.Errorf("the request sent while starting was answered %s after gunicorn went FATAL", late)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request sent while starting got no answer")
	}

	// once FATAL: at once
	begin := time.Now()
	post503(t, s.url("/slow-post/?seconds=0"))
	if took := time.Since(begin); took > time.Second {
		t.Errorf("POST once FATAL answered after %s, want at once", took)
	}
	// the 503s are logged with the real wait and the reason
	for _, e := range s.waitEntries(2, 10*time.Second, "the 503s in the log", msgIs("app server cannot serve the request; answered 503")) {
		if e.str("level") != "error" || !strings.Contains(e.str("error"), "gunicorn is FATAL: ") || !strings.Contains(e.str("error"), want) {
			t.Errorf("503 entry %v, want level error with the reason", e)
		}
		if _, ok := e["waited"].(float64); !ok {
			t.Errorf("503 entry %v has no waited", e)
		}
		if e.str("app_server") != gunicornName {
			t.Errorf("503 entry %v does not name the app server", e)
		}
	}

	// Gunicorn's own lines: traceback and [ERROR] at error level, [INFO] at info
	level := func(match func(string) bool) string {
		es := s.entries(func(e logEntry) bool { return e.str("logger") == "django.gunicorn" && match(e.str("msg")) })
		if len(es) == 0 {
			return "missing"
		}
		return es[0].str("level")
	}
	for _, c := range []struct {
		line, level string
		match       func(string) bool
	}{
		{"Traceback header", "error", func(m string) bool { return m == "Traceback (most recent call last):" }},
		{"a traceback frame", "error", func(m string) bool { return strings.HasPrefix(m, "  File ") }},
		{"the exception line", "error", func(m string) bool { return strings.Contains(m, "ModuleNotFoundError: "+want) }},
		{"[ERROR] line", "error", func(m string) bool { return strings.Contains(m, "[ERROR] Exception in worker process") }},
		{"[INFO] line", "info", func(m string) bool { return strings.Contains(m, "[INFO] Booting worker") }},
	} {
		if got := level(c.match); got != c.level {
			t.Errorf("%s logged at %s, want %s", c.line, got, c.level)
		}
	}
}

// post503 POSTs to url, wants 503 with Retry-After and the short
// "unavailable" body, and returns when the answer came.
func post503(t *testing.T, url string) time.Time {
	c := &http.Client{Timeout: 90 * time.Second}
	resp, err := c.Post(url, "text/plain", strings.NewReader("x"))
	at := time.Now()
	if err != nil {
		t.Errorf("POST %s: %v", url, err)
		return at
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST %s: %d Retry-After=%q, want 503 with Retry-After", url, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, "application is unavailable") || len(body) > 200 {
		t.Errorf("503 body %q, want a short message that the application is unavailable", body)
	}
	for _, secret := range []string{"nope", "Traceback", "gunicorn", "FATAL", "127.0.0.1"} {
		if strings.Contains(body, secret) {
			t.Errorf("503 body %q gives away %q", body, secret)
		}
	}
	return at
}
