package caddydjango

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// End-to-end tests of loading configurations: `caddy validate` and `caddy
// adapt` start nothing; a reload keeps what did not change, replaces what
// did and stops what was removed, and leaks nothing over many reloads.

func TestValidateAndAdaptStartNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "started")
	cf := fmt.Sprintf("{\n\tdjango {\n\t\trelease /bin/touch %s\n\t\tprocess p /bin/touch %s\n\t}\n}\n", marker, marker)
	path := writeCaddyfile(t, dir, cf)
	for _, sub := range []string{"adapt", "validate"} {
		out, err := exec.Command(caddyBinary(t), sub, "--config", path, "--adapter", "caddyfile").CombinedOutput()
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", sub, err, out)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("caddy adapt/validate started a process")
	}
}

func TestReloadKeepsUnchangedReplacesChangedStopsRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	cfg := func(admin, changedArg, site string, withRemoved bool) string {
		procs := fmt.Sprintf(`
		process same /bin/sleep 1001
		process changed /bin/sleep %s`, changedArg)
		if withRemoved {
			procs += "\n\t\tprocess removed /bin/sleep 1003"
		}
		return globalBlock(admin, procs) + fmt.Sprintf("\n:%d {\n\trespond %q\n}\n", port, site)
	}
	var admin string
	c := startCaddy(t, dir, func(a string) string { admin = a; return cfg(a, "1002", "one", true) })
	before := map[string]int{}
	for _, n := range []string{"same", "changed", "removed"} {
		before[n] = c.waitState(n, StateRunning, 10*time.Second).PID
	}

	// an unrelated change (the site's response) restarts nothing
	if err := c.reload(cfg(admin, "1002", "two", true)); err != nil {
		t.Fatal(err)
	}
	resp := getAfterReload(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "two" {
		t.Fatalf("reload did not apply: %q", body)
	}
	for n, pid := range before {
		if st := c.statuses()[n]; st.PID != pid || st.State != StateRunning {
			t.Fatalf("%s changed on an unrelated reload: %+v (was pid %d)", n, st, pid)
		}
	}

	if err := c.reload(cfg(admin, "2002", "three", false)); err != nil {
		t.Fatal(err)
	}
	st := c.statuses()
	if st["same"].PID != before["same"] {
		t.Errorf("unchanged process restarted: %d -> %d", before["same"], st["same"].PID)
	}
	if _, ok := st["removed"]; ok {
		t.Errorf("removed process still listed")
	}
	if testkit.Alive(before["removed"]) {
		t.Errorf("removed process %d still running", before["removed"])
	}
	if testkit.Alive(before["changed"]) {
		t.Errorf("old generation of changed process %d still running", before["changed"])
	}
	now := c.waitState("changed", StateRunning, 10*time.Second)
	if now.PID == before["changed"] {
		t.Errorf("changed process kept its pid")
	}
	if !strings.Contains(strings.Join(now.Command, " "), "2002") {
		t.Errorf("changed process runs %v", now.Command)
	}

	pids := []int{st["same"].PID, now.PID}
	c.signalAndWait(syscall.SIGTERM, 20*time.Second)
	for _, pid := range pids {
		if testkit.Alive(pid) {
			t.Errorf("pid %d left running after caddy stopped", pid)
		}
	}
}

// TestReloadSoak alternates two configs 200 times through the admin API
// under constant load: no failed request, and no leaked process, file
// descriptor or goroutine; memory stays flat.
func TestReloadSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	t.Parallel()
	worker := func(n int) string {
		return fmt.Sprintf("process sidecar /bin/sleep %d\n\t\trelease /bin/true", 1000+n)
	}
	s := startDjangoSite(t, 2, "", worker(0))
	s.waitState("sidecar", StateRunning, 20*time.Second)
	caddyPID := s.cmd.Process.Pid
	measure := func() (fds, goroutines, procs int, rssKB int) {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", caddyPID))
		fds = len(ents)
		resp, err := http.Get("http://" + s.admin + "/debug/pprof/goroutine?debug=1")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Sscanf(string(b), "goroutine profile: total %d", &goroutines)
		}
		procs = len(testkit.Descendants(caddyPID))
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", caddyPID))
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &rssKB)
			}
		}
		return
	}
	configs := [2]string{
		s.config(s.admin, 2, "", worker(0), "header X-Config a\n\tdjango_files"),
		s.config(s.admin, 2, "", worker(1), "header X-Config b\n\tdjango_files"),
	}
	// warm up: the first reloads allocate pools that then stay
	for i := range 10 {
		if err := s.reload(configs[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	g := s.statuses()[gunicornName].PID
	// the baseline is taken once the warm-up's replaced sidecars (sleep
	// processes) are gone: one sidecar runs
	waitFor(t, 60*time.Second, func() bool {
		sleeps := 0
		for _, pid := range testkit.Descendants(caddyPID) {
			if comm, _, _ := testkit.Stat(pid); comm == "sleep" {
				sleeps++
			}
		}
		return sleeps == 1
	}, "the warm-up's replaced sidecars to exit")
	fds0, gor0, procs0, rss0 := measure()
	l := startLoadDuringReloads(s.url("/hello/"))
	const reloads = 200
	for i := range reloads {
		if err := s.reload(configs[i%2]); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	l.stop(t, fmt.Sprintf("%d reloads", reloads))
	s.waitState("sidecar", StateRunning, 20*time.Second)
	var fds1, gor1, procs1, rss1 int
	// closing goes on after the last reload returns (old configs' servers,
	// processes and sockets are released in the background, slowly on a
	// loaded machine): wait for it, and say what stayed above its level
	back := func() bool {
		fds1, gor1, procs1, rss1 = measure()
		return fds1 <= fds0+8 && gor1 <= gor0+20 && procs1 == procs0
	}
	for deadline := time.Now().Add(60 * time.Second); !back(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %d reloads, not back to their level within 60s: fds %d->%d (+8 allowed), goroutines %d->%d (+20 allowed), processes %d->%d",
				reloads, fds0, fds1, gor0, gor1, procs0, procs1)
		}
	}
	t.Logf("after %d reloads: fds %d->%d, goroutines %d->%d, processes %d->%d, RSS %d->%d KB",
		reloads, fds0, fds1, gor0, gor1, procs0, procs1, rss0, rss1)
	if rss1 > rss0+40*1024 {
		t.Errorf("RSS grew by %d KB over %d reloads", rss1-rss0, reloads)
	}
	if now := s.statuses()[gunicornName].PID; now != g {
		t.Errorf("gunicorn restarted during the soak: %d -> %d", g, now)
	}
}
