package caddydjango

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// treeRSS returns the resident memory, in bytes, of pid and all its
// descendants (a Gunicorn master and its workers), read from /proc; false
// when pid is gone.
func treeRSS(pid int) (int64, bool) {
	stats := readProcStats()
	if _, ok := stats[pid]; !ok {
		return 0, false
	}
	children := map[int][]int{}
	for p, st := range stats {
		children[st.ppid] = append(children[st.ppid], p)
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
		pages += stats[p].rssPages
		todo = append(todo, children[p]...)
	}
	return pages * int64(os.Getpagesize()), true
}

// procStat is what the supervisor needs of /proc/PID/stat: the state
// (zombieGroup), the parent (treeRSS), the process group (zombieGroup) and
// the resident set in pages (treeRSS).
type procStat struct {
	state    byte
	ppid     int
	pgrp     int
	rssPages int64
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
// group (field 5) and resident set size in pages (field 24) of a
// /proc/PID/stat line. The command name (field 2,
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
	if err1 != nil || err2 != nil || err3 != nil || len(f[0]) != 1 {
		return procStat{}, false
	}
	return procStat{state: f[0][0], ppid: ppid, pgrp: pgrp, rssPages: rss}, true
}
