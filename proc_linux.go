//go:build linux

package caddydjango

import (
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// setParentDeathSignal makes the kernel SIGKILL the program when the thread
// that started it exits, so that a SIGKILLed or SIGQUIT Caddy leaves no
// program behind holding Gunicorn's port. The starting goroutine keeps its
// thread locked for the program's lifetime (see launch).
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}

// When Caddy is PID 1 (a container), orphans are reparented to it and must
// be reaped, or they stay zombies. The reaper reaps every child; our own
// programs' exit statuses are handed to their waiters.
//
// A program of ours may exit and be reaped (on its SIGCHLD) before anyone
// waits for it: a release command that prints one line is often reaped
// before the goroutine that waits for it runs. Its status stays in its
// channel (buffered) until waitCmd takes it. Once reaped, the program is
// gone for the kernel: a wait on it through os/exec (pidfd or pid) can only
// fail with ECHILD, so waitCmd never falls back to cmd.Wait for a program
// startCmd registered.
var reaper struct {
	sync.Mutex
	once    sync.Once
	enabled bool
	// byPID: programs not reaped yet, for the reaper (the pid may be reused
	// once it is reaped, so the reaper removes it).
	byPID map[int]chan syscall.WaitStatus
	// byCmd: every program registered and not waited for yet, for waitCmd.
	byCmd map[*exec.Cmd]chan syscall.WaitStatus
}

func reaperEnabled() bool {
	reaper.once.Do(func() {
		if os.Getpid() != 1 {
			return
		}
		reaper.enabled = true
		reaper.byPID = map[int]chan syscall.WaitStatus{}
		reaper.byCmd = map[*exec.Cmd]chan syscall.WaitStatus{}
		sigs := make(chan os.Signal, 16)
		signal.Notify(sigs, syscall.SIGCHLD)
		go func() {
			for range sigs {
				reapAll()
			}
		}()
	})
	return reaper.enabled
}

// reapAll reaps every exited child (never Go's own clone children: no
// __WALL), handing our programs' statuses to their channels.
func reapAll() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		reaper.Lock()
		if ch, ok := reaper.byPID[pid]; ok {
			ch <- ws // buffered: each program is reaped once
			delete(reaper.byPID, pid)
		}
		reaper.Unlock()
	}
}

// reapOrphans reaps exited orphans when Caddy is PID 1 (members of a
// process group whose leader is gone, for groupAlive).
func reapOrphans() {
	if reaperEnabled() {
		reapAll()
	}
}

// zombieGroup reports whether every process of group pgid is a zombie
// (exited, not reaped yet): its members were reparented to a PID 1 that
// reaps only now and then, and for the supervisor the group is gone. It
// reports false when /proc cannot tell.
func zombieGroup(pgid int) bool {
	stats := readProcStats()
	if len(stats) == 0 {
		return false
	}
	for _, st := range stats {
		if st.pgrp == pgid && st.state != 'Z' && st.state != 'X' {
			return false
		}
	}
	return true
}

// startCmd starts cmd; with the reaper on, the program is registered before
// the reaper can hand out its status (it waits for the lock held here).
func startCmd(cmd *exec.Cmd) error {
	if !reaperEnabled() {
		return cmd.Start()
	}
	reaper.Lock()
	defer reaper.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	ch := make(chan syscall.WaitStatus, 1)
	reaper.byPID[cmd.Process.Pid] = ch
	reaper.byCmd[cmd] = ch
	return nil
}

// waitCmd waits for a program started by startCmd and returns how it
// exited, whether or not the reaper has reaped it already.
func waitCmd(cmd *exec.Cmd) exitInfo {
	if reaperEnabled() {
		reaper.Lock()
		ch := reaper.byCmd[cmd]
		delete(reaper.byCmd, cmd)
		reaper.Unlock()
		if ch != nil {
			// a SIGCHLD may have come before Notify saw it: reap once now
			go reapAll()
			ws := <-ch
			_ = cmd.Process.Release()
			return exitInfoFromWaitStatus(ws)
		}
	}
	err := cmd.Wait()
	return exitInfoFromCmd(cmd, err)
}

// noCoreDump turns off core dumps for pid (its RLIMIT_CORE), before a
// signal that ends it with one by default (dumpStack).
func noCoreDump(pid int) {
	_ = unix.Prlimit(pid, unix.RLIMIT_CORE, &unix.Rlimit{}, nil)
}
