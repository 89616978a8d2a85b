//go:build linux

package caddydjango

import (
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// forkingPython forks n children that sleep, then sleeps: a master and
// its workers.
func forkingPython(n int) string {
	return "import os, time\nfor _ in range(" + string(rune('0'+n)) + "):\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\ntime.sleep(60)\n"
}

// TestServerProcs: the master and workers of an app server found in the
// real process tree: the leader itself, or the program below a launcher
// that is another program (a shell that does not exec); no workers for a
// one-process server.
func TestServerProcs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		argv     []string
		launcher bool
		workers  int
	}{
		{"master and two workers", []string{systemPython, "-c", forkingPython(2)}, false, 2},
		{"one worker", []string{systemPython, "-c", forkingPython(1)}, false, 1},
		{"below a shell", []string{"/bin/sh", "-c", systemPython + ` -c "$0"; :`, forkingPython(2)}, true, 2},
		{"one process", []string{systemPython, "-c", "import time; time.sleep(60)"}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.argv[0], tc.argv[1:]...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
			leader := cmd.Process.Pid
			want := 1 + tc.workers
			if tc.launcher {
				want++
			}
			var tab procTable
			waitFor(t, 20*time.Second, func() bool {
				tab = readProcTable()
				return len(tab.groupMembersOf(leader)) == want
			}, "the processes started")
			master, workers := tab.serverProcs(leader)
			if tc.launcher == (master == leader) {
				t.Errorf("master %d (leader %d): want the leader only without a launcher", master, leader)
			}
			if tab.stats[master].pgrp != leader || !strings.Contains(exeOf(master), "python") {
				t.Errorf("master %d (%s) is not the Python server", master, exeOf(master))
			}
			if len(workers) != tc.workers {
				t.Fatalf("workers %v, want %d", workers, tc.workers)
			}
			for _, w := range workers {
				if tab.stats[w].ppid != master || !slices.Contains(tab.groupMembersOf(leader), w) {
					t.Errorf("worker %d is not a child of the master %d", w, master)
				}
				// /proc counts in hundredths of a second
				if age := time.Since(tab.started(w)); age < -time.Second || age > 20*time.Second {
					t.Errorf("worker %d started %v ago", w, age)
				}
			}
		})
	}
}
