//go:build unix && !linux

package caddydjango

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal: only Linux has a parent-death signal. Elsewhere a
// SIGKILLed Caddy can leave its programs running (Gunicorn workers still
// exit when their master is gone).
func setParentDeathSignal(*syscall.SysProcAttr) {}

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

func waitCmd(cmd *exec.Cmd) exitInfo {
	err := cmd.Wait()
	return exitInfoFromCmd(cmd, err)
}

// reapOrphans: Caddy is never PID 1 here.
func reapOrphans() {}

// zombieGroup: without /proc a group of zombies counts as alive until its
// new parent reaps them.
func zombieGroup(int) bool { return false }

// noCoreDump: no prlimit(2) outside Linux; the core dump stays as the
// system sets it.
func noCoreDump(int) {}
