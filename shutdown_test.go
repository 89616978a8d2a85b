package caddydjango

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of Caddy stopping or dying: processes are stopped (by
// force when they resist), requests in flight finish, and nothing is left
// running.

func TestStopEscalatesToKillingTheGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// the shell and its child both ignore TERM
	script := fmt.Sprintf(`trap "" TERM; sleep 1000 & echo $! > %s; wait`, pidFile)
	c := startWithDjango(t, dir, fmt.Sprintf(`
		process stubborn /bin/sh -c %q {
			stop_timeout 300ms
		}`, script))
	st := c.waitState("stubborn", StateRunning, 10*time.Second)
	var child int
	waitFor(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return child > 0
	}, "child pid")
	if len(groupMembers(st.PID)) < 2 {
		t.Fatalf("expected the shell and its child in group %d", st.PID)
	}
	state := c.signalAndWait(syscall.SIGTERM, 15*time.Second)
	if !state.Success() {
		t.Errorf("caddy exit: %v", state)
	}
	if testkit.Alive(st.PID) || testkit.Alive(child) {
		t.Fatalf("left running: shell %v, child %v", testkit.Alive(st.PID), testkit.Alive(child))
	}
	if len(c.entries(msgIs("process did not stop in time; killing its process group"))) != 1 {
		t.Error("expected the escalation to be logged")
	}
}

func TestSIGTERMLetsSlowRequestsFinish(t *testing.T) {
	t.Parallel()
	s := startDjangoSite(t, 3, "", "")
	type result struct {
		code int
		body string
	}
	results := make(chan result, 3)
	for range 3 {
		go func() {
			code, body := httpGet(s.url("/slow/?seconds=2"))
			results <- result{code, body}
		}()
	}
	// the three requests are inside Django before Caddy is told to stop
	waitFor(t, 10*time.Second, func() bool {
		return countSlowInFlight(s) >= 3
	}, "three slow requests in flight")
	g := s.statuses()[gunicornName]
	members := groupMembers(g.PID)
	state := s.signalAndWait(syscall.SIGTERM, 60*time.Second)
	if !state.Success() {
		t.Errorf("caddy exit %v", state)
	}
	for range 3 {
		r := <-results
		if r.code != 200 || r.body != "slept 2" {
			t.Errorf("in-flight request lost on SIGTERM: %d %q", r.code, r.body)
		}
	}
	for _, pid := range members {
		if testkit.Alive(pid) {
			t.Errorf("pid %d left running", pid)
		}
	}
}

// countSlowInFlight counts Gunicorn workers busy in /slow/: Gunicorn sync
// workers handle one request each, so a worker's open client socket means
// a request in flight. Approximated by the connections Gunicorn accepted
// on its generation's own socket.
func countSlowInFlight(s *djangoSite) int { return s.upstreamConns() }

func TestSIGKILLedCaddyLeavesNoProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		process tree /bin/sh -c "sleep 1000 & sleep 1000 & wait"`)
	st := c.waitState("tree", StateRunning, 10*time.Second)
	waitFor(t, 5*time.Second, func() bool { return len(groupMembers(st.PID)) == 3 }, "the shell and its two children")
	members := groupMembers(st.PID)
	c.signalAndWait(syscall.SIGKILL, 5*time.Second)
	waitFor(t, time.Second, func() bool {
		for _, pid := range members {
			if testkit.Alive(pid) {
				return false
			}
		}
		return true
	}, "every process of the group to die within a second of caddy's SIGKILL")
}

// TestUploadsSurviveCaddyDeath: uploads that completed (the client got its
// answer) are on disk, whole, after Caddy is SIGKILLed.
func TestUploadsSurviveCaddyDeath(t *testing.T) {
	t.Parallel()
	s := startDjangoSite(t, 2, "", "")
	var names []string
	sums := map[string]string{}
	for i := range 3 {
		payload := bytes.Repeat([]byte(fmt.Sprintf("upload %d ", i)), 200_000) // ~2 MB: spooled to disk by django_files
		var body bytes.Buffer
		mw := multipartWriter(&body, fmt.Sprintf("up%d.bin", i), payload)
		resp, err := http.Post(s.url("/upload/"), mw, &body)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Name string }
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != 200 || got.Name == "" {
			t.Fatalf("upload %d: %s %+v", i, resp.Status, got)
		}
		sum := sha256.Sum256(payload)
		names = append(names, got.Name)
		sums[got.Name] = hex.EncodeToString(sum[:])
	}
	s.signalAndWait(syscall.SIGKILL, 10*time.Second)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(s.project.MediaRoot, n))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != sums[n] {
			t.Errorf("%s is damaged on disk (%d bytes)", n, len(b))
		}
	}
}
