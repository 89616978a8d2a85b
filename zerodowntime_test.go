package caddydjango

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end test of zero downtime: no request fails while Gunicorn is
// restarted, replaced or redeployed.

// TestZeroDowntime counts failed requests from 4 clients during each
// operation that restarts or replaces Gunicorn. Every count must be 0.
func TestZeroDowntime(t *testing.T) {
	t.Parallel()
	release := `release /usr/bin/python3 manage.py migrate --noinput`
	s := startDjangoSite(t, 2, "", release)
	hello := s.url("/hello/")
	pid := func() int { return s.statuses()[gunicornName].PID }

	t.Run("unrelated reload", func(t *testing.T) {
		before := pid()
		l := startLoadDuringReloads(hello)
		if err := s.reload(s.config(s.admin, 2, "", release,
			"header X-A b\n\tdjango_files")); err != nil {
			t.Fatal(err)
		}
		l.stop(t, "unrelated reload")
		if pid() != before {
			t.Errorf("gunicorn restarted: %d -> %d", before, pid())
		}
	})

	t.Run("reload changing workers", func(t *testing.T) {
		before := pid()
		l := startLoadDuringReloads(hello)
		if err := s.reload(s.config(s.admin, 3, "", release, "")); err != nil {
			t.Fatal(err)
		}
		l.stop(t, "reload changing workers")
		if pid() == before || testkit.Alive(before) {
			t.Errorf("old gunicorn %d should be replaced and gone (now %d)", before, pid())
		}
		if st := s.statuses()[gunicornName]; !strings.Contains(strings.Join(st.Command, " "), "--workers 3") {
			t.Errorf("running %v", st.Command)
		}
	})

	t.Run("SIGKILL of the gunicorn master", func(t *testing.T) {
		before := pid()
		l := startSteadyLoad(t, hello)
		if err := syscall.Kill(before, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, func() bool {
			st := s.statuses()[gunicornName]
			return st.State == StateRunning && st.PID != before
		}, "a new gunicorn")
		l.stop(t, "SIGKILL of the master")
	})

	// replacedBy POSTs to the admin API path under load: no request fails,
	// and Gunicorn has a new pid
	replacedBy := func(t *testing.T, path, what string) {
		t.Helper()
		before := pid()
		l := startSteadyLoad(t, hello)
		if code, body := s.post(path); code != 200 {
			t.Fatalf("%s: %d %s", what, code, body)
		}
		l.stop(t, what)
		if pid() == before {
			t.Errorf("same pid after %s", what)
		}
	}

	t.Run("restart through the admin API", func(t *testing.T) {
		replacedBy(t, "/django/processes/gunicorn/restart", "API restart")
	})

	t.Run("deploy: POST /django/reload", func(t *testing.T) {
		replacedBy(t, "/django/reload", "deploy")
		// at boot and on this deploy
		s.waitEntries(2, 5*time.Second, "the release command's second run", msgIs("release command done"))
	})

	t.Run("upload in flight during a reload", func(t *testing.T) {
		// a 3 MB body sent slowly over ~2 s while Gunicorn is replaced
		payload := bytes.Repeat([]byte("0123456789abcdef"), 3<<16)
		sum := sha256.Sum256(payload)
		pr, pw := io.Pipe()
		go func() {
			for i := 0; i < len(payload); i += len(payload) / 20 {
				_, _ = pw.Write(payload[i:min(i+len(payload)/20, len(payload))])
				time.Sleep(100 * time.Millisecond)
			}
			pw.Close()
		}()
		type result struct {
			code int
			body string
			err  error
		}
		done := make(chan result, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, s.url("/echo-size/"), pr)
			req.ContentLength = int64(len(payload))
			resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			done <- result{code: resp.StatusCode, body: string(b)}
		}()
		time.Sleep(300 * time.Millisecond) // let the upload begin before the reload
		if err := s.reload(s.config(s.admin, 2, "", release, "")); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.err != nil || r.code != 200 {
			t.Fatalf("upload: %v %d %s", r.err, r.code, r.body)
		}
		var got struct {
			Size   int
			Sha256 string
		}
		_ = json.Unmarshal([]byte(r.body), &got)
		if got.Size != len(payload) || got.Sha256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("upload arrived damaged: %+v", got)
		}
	})

	t.Run("a new gunicorn that cannot start leaves the old one serving", func(t *testing.T) {
		before := pid()
		l := startLoadDuringReloads(hello)
		err := s.reload(strings.Replace(s.config(s.admin, 2, "ready_timeout 5s\n\t\t\tstartretries 0", release, ""),
			"demo.wsgi:application", "demo.nosuchmodule:application", 1))
		if err == nil || !strings.Contains(err.Error(), "new gunicorn did not start, the running one keeps serving") {
			t.Fatalf("reload error = %v", err)
		}
		l.stop(t, "failed reload")
		if pid() != before {
			t.Errorf("gunicorn changed: %d -> %d", before, pid())
		}
	})

	t.Run("a failing release stops the deploy", func(t *testing.T) {
		before := pid()
		bad := release + "\n\t\trelease /bin/sh -c \"echo migration 0042 exploded >&2; exit 3\""
		err := s.reload(strings.Replace(s.config(s.admin, 4, "", bad, ""), "", "", 1))
		if err == nil || !strings.Contains(err.Error(), "migration 0042 exploded") {
			t.Fatalf("reload error should carry the release output, got %v", err)
		}
		if pid() != before {
			t.Errorf("gunicorn changed: %d -> %d", before, pid())
		}
		// the failed load started and stopped a new config's listener: a
		// request can meet that swap (getAfterReload sends it again)
		resp := getAfterReload(t, hello)
		resp.Body.Close()
		if code := resp.StatusCode; code != 200 {
			t.Errorf("site down after failed deploy: %d", code)
		}
	})
}
