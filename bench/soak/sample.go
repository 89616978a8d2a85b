//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// sample is Caddy's resources at one minute mark.
type sample struct {
	minute                   int
	at                       time.Duration
	rssKB                    int
	goroutines, fds, threads int
	procs, workers, zombies  int // processes below Caddy, Gunicorn's configured workers
	genDirs, tmpFiles        int // in Caddy's TMPDIR
	deleted                  int // Caddy's fds on unlinked files (request body buffers)
	settled                  bool
	waited                   time.Duration
}

// takeSample waits (at most 45 s) until the processes are settled (every
// process RUNNING, no scheduled run going, no zombie, one generation per app
// server, the process count unchanged for 2 s), then reads the figures.
func (s *soak) takeSample(minuteNo int) {
	t0 := time.Now()
	pid := s.caddy.Process.Pid
	var last, stable int
	settled := false
	for time.Since(t0) < 45*time.Second {
		st, err := s.statuses()
		live, zombies := tree(pid)
		dirs, _ := genDirs(s.tmp)
		ok := err == nil && zombies == 0 && dirs == 2 && st["tick"].State != "RUNNING"
		for _, n := range []string{"gunicorn", "asgi", "worker", "crashloop"} {
			ok = ok && st[n].State == "RUNNING"
		}
		if ok && live == last {
			stable++
		} else {
			stable = 0
		}
		last = live
		if stable >= 4 {
			settled = true
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	sm := sample{minute: minuteNo, at: time.Since(s.start), settled: settled, waited: time.Since(t0)}
	sm.rssKB = statusField(pid, "VmRSS:")
	sm.threads = statusField(pid, "Threads:")
	sm.goroutines = testkit.Goroutines(s.admin)
	sm.fds, sm.deleted = fds(pid)
	sm.procs, sm.zombies = tree(pid)
	sm.genDirs, sm.tmpFiles = genDirs(s.tmp)
	s.mu.Lock()
	sm.workers = s.workers
	s.mu.Unlock()
	s.samples = append(s.samples, sm)
	if len(s.samples) == 1 {
		fmt.Println("processes below Caddy at the first sample:")
		for _, p := range testkit.Descendants(pid) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			line, _, _ := strings.Cut(strings.ReplaceAll(strings.TrimSpace(string(cmd)), "\x00", " "), "\n")
			if len(line) > 110 {
				line = line[:110] + "..."
			}
			fmt.Printf("  %7d %s\n", p, line)
		}
		fmt.Println("files in Caddy's TMPDIR at the first sample:")
		_ = filepath.Walk(s.tmp, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				fmt.Printf("  %s\n", strings.TrimPrefix(path, s.tmp+"/"))
			}
			return nil
		})
		fmt.Println(tableHead)
	}
	fmt.Println(s.row(sm))
}

const tableHead = "min  requests failed  gunicorn p50/p90/p99 ms  uvicorn p50/p90/p99 ms    RSS MiB  gor  fds thr  procs zomb gdir tmpf del  note"

// row is one line of the per-minute table: the requests of the minute
// before the sample, and the sample.
func (s *soak) row(sm sample) string {
	reqs, failed := 0, 0
	var g, u string = "-", "-"
	s.rec.mu.Lock()
	if i := sm.minute - 1; i >= 0 && i < len(s.rec.minutes) {
		m := s.rec.minutes[i]
		reqs = m.requests
		g, u = pcts(m.hello["gunicorn"]), pcts(m.hello["asgi"])
		for _, f := range s.rec.failures {
			if int(f.start.Sub(s.start)/time.Minute) == i {
				failed++
			}
		}
	}
	s.rec.mu.Unlock()
	note := ""
	if sm.at < s.warmup {
		note = "warm-up"
	}
	if !sm.settled {
		note += fmt.Sprintf(" unsettled after %s", sm.waited.Round(time.Second))
	}
	return fmt.Sprintf("%3d  %8d %6d  %-23s  %-23s  %7.1f %4d %4d %3d  %5d %4d %4d %4d %3d  %s",
		sm.minute, reqs, failed, g, u, float64(sm.rssKB)/1024, sm.goroutines, sm.fds, sm.threads,
		sm.procs-sm.workers, sm.zombies, sm.genDirs, sm.tmpFiles, sm.deleted, strings.TrimSpace(note))
}

func pcts(d []time.Duration) string {
	if len(d) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f/%.1f/%.1f", msq(d, 0.5), msq(d, 0.9), msq(d, 0.99))
}

// msq is the q-quantile of d in milliseconds.
func msq(d []time.Duration, q float64) float64 {
	s := append([]time.Duration{}, d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q * float64(len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

func statusField(pid int, field string) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return -1
}

// fds counts pid's open fds and those on unlinked files.
func fds(pid int) (n, deleted int) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if link, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasSuffix(link, "(deleted)") {
			deleted++
		}
	}
	return len(ents), deleted
}

// tree counts the processes below pid: live ones and zombies.
func tree(pid int) (live, zombies int) {
	kids := map[int][]int{}
	state := map[int]string{}
	for _, p := range testkit.PIDs() {
		_, f, ok := testkit.Stat(p)
		if ok && len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			kids[pp] = append(kids[pp], p)
			state[p] = f[0]
		}
	}
	var walk func(int)
	walk = func(p int) {
		for _, c := range kids[p] {
			if state[c] == "Z" {
				zombies++
			} else {
				live++
			}
			walk(c)
		}
	}
	walk(pid)
	return
}

// genDirs counts the generation directories (caddy-django-*) in dir and
// the other files anywhere under it (sockets and locks in the generation
// directories included).
func genDirs(dir string) (dirs, files int) {
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || path == dir {
			return nil
		}
		if info.IsDir() {
			if filepath.Dir(path) == dir && strings.HasPrefix(info.Name(), "caddy-django-") {
				dirs++
			}
			return nil
		}
		files++
		return nil
	})
	return
}
