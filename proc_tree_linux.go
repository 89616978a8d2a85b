package caddydjango

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// treeRSS returns the resident memory, in bytes, of pid and all its
// descendants (a Gunicorn master and its workers), read from /proc; false
// when pid is gone.
func treeRSS(pid int) (int64, bool) {
	return readProcTable().treeRSS(pid)
}

// procTable is one reading of every process's /proc/PID/stat, with each
// process's children: the metrics and the memory guard (memory_guard.go)
// read it once per scrape or check.
type procTable struct {
	stats    map[int]procStat
	children map[int][]int
}

// readProcTable reads /proc once.
func readProcTable() procTable {
	t := procTable{stats: readProcStats(), children: map[int][]int{}}
	for p, st := range t.stats {
		t.children[st.ppid] = append(t.children[st.ppid], p)
	}
	return t
}

// treeRSS returns the resident memory, in bytes, of pid and its
// descendants; false when pid is gone.
func (t procTable) treeRSS(pid int) (int64, bool) {
	if _, ok := t.stats[pid]; !ok {
		return 0, false
	}
	var pages int64
	seen := map[int]bool{}
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[p] {
			continue
		}
		seen[p] = true
		pages += t.stats[p].rssPages
		todo = append(todo, t.children[p]...)
	}
	return pages * int64(os.Getpagesize()), true
}

// started returns when pid started (the zero time when it is gone).
func (t procTable) started(pid int) time.Time {
	st, ok := t.stats[pid]
	if !ok {
		return time.Time{}
	}
	// /proc counts in USER_HZ, 100 per second on Linux's ABIs
	return bootTime().Add(time.Duration(st.start) * (time.Second / 100))
}

// bootTime is when the machine booted (from /proc/uptime, read once).
var bootTime = sync.OnceValue(func() time.Time {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Time{}
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return time.Time{}
	}
	up, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return time.Time{}
	}
	return time.Now().Add(-time.Duration(up * float64(time.Second)))
})

// rss returns the resident memory of pid alone, in bytes.
func (t procTable) rss(pid int) int64 { return t.stats[pid].rssPages * int64(os.Getpagesize()) }

// serverProcs finds an app server's master and workers in the process tree
// under leader (the process Caddy started): the master is the leader, or,
// below a launcher that is another program (`uv run`, `sh -c` without
// exec), the first process down a line of single children whose program
// differs from its parent's; its workers are its children. A
// one-process server has no workers.
func (t procTable) serverProcs(leader int) (master int, workers []int) {
	master = leader
	for {
		kids := t.live(t.children[master])
		if len(kids) != 1 || exeOf(kids[0]) == exeOf(master) {
			return master, kids
		}
		master = kids[0]
	}
}

// live filters out exited processes (zombies) from pids.
func (t procTable) live(pids []int) []int {
	var out []int
	for _, p := range pids {
		if st := t.stats[p].state; st != 'Z' && st != 'X' {
			out = append(out, p)
		}
	}
	return out
}

// exeOf is the program pid runs (/proc/PID/exe), "" when unknown.
func exeOf(pid int) string {
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return exe
}

// memberAlive reports whether pid is a live (not exited) member of
// process group pgid: it is still the process it was (a reused pid is in
// another group).
func memberAlive(pid, pgid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	st, ok := parseProcStat(b)
	return ok && st.pgrp == pgid && st.state != 'Z' && st.state != 'X'
}

// groupOf returns pid's process group, 0 when pid is gone.
func groupOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	st, _ := parseProcStat(b)
	return st.pgrp
}

// groupMembersOf lists the live processes of process group pgid.
func (t procTable) groupMembersOf(pgid int) []int {
	var out []int
	for pid, st := range t.stats {
		if st.pgrp == pgid && st.state != 'Z' && st.state != 'X' {
			out = append(out, pid)
		}
	}
	return out
}

// procStat is what the supervisor needs of /proc/PID/stat: the state
// (zombieGroup), the parent (treeRSS), the process group (zombieGroup), the
// resident set in pages (treeRSS) and when it started, in clock ticks
// after boot (a worker's age, for the memory guard's backoff).
type procStat struct {
	state    byte
	ppid     int
	pgrp     int
	rssPages int64
	start    uint64
}

// readProcStats reads /proc/PID/stat of every process; processes that
// exit meanwhile are left out.
func readProcStats() map[int]procStat {
	out := map[int]procStat{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		if st, ok := parseProcStat(b); ok {
			out[pid] = st
		}
	}
	return out
}

// parseProcStat reads the state (field 3), parent pid (field 4), process
// group (field 5), start time (field 22) and resident set size in pages
// (field 24) of a /proc/PID/stat line. The command name (field 2,
// in parentheses) may hold spaces and parentheses: fields are counted
// after its last ')'.
func parseProcStat(b []byte) (procStat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3 (state)
	if len(f) < 22 {
		return procStat{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgrp, err2 := strconv.Atoi(string(f[2]))
	rss, err3 := strconv.ParseInt(string(f[21]), 10, 64)
	start, err4 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(f[0]) != 1 {
		return procStat{}, false
	}
	return procStat{state: f[0][0], ppid: ppid, pgrp: pgrp, rssPages: rss, start: start}, true
}
