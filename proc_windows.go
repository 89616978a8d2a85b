//go:build windows

package caddydjango

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// On Windows there are no POSIX signals: every stop signal ends the process
// (TerminateProcess). Process groups and users are not supported.

func parseSignal(name string) (os.Signal, error) {
	switch strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG") {
	case "TERM", "INT", "QUIT", "KILL", "HUP", "USR1", "USR2", "WINCH", "TTIN", "TTOU":
		return os.Kill, nil
	}
	return nil, fmt.Errorf("unknown signal %q (use TERM, INT, QUIT, HUP, KILL, USR1, USR2, WINCH, TTIN, TTOU)", name)
}

func configureCmd(cmd *exec.Cmd, username string) error {
	if username != "" {
		return errors.New("user is not supported on Windows")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	return nil
}

func signalGroup(pid int, sig os.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func killGroup(pid int) error { return signalGroup(pid, os.Kill) }

// isControlSignal: every signal terminates the process on Windows.
func isControlSignal(os.Signal) bool { return false }

func signalProcess(pid int, sig os.Signal) error { return signalGroup(pid, sig) }

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

func waitCmd(cmd *exec.Cmd) exitInfo {
	err := cmd.Wait()
	if cmd.ProcessState != nil {
		return exitInfo{code: cmd.ProcessState.ExitCode()}
	}
	return exitInfo{code: -1, err: err}
}

// startWatchdog: Windows has no process groups to guard.
func startWatchdog(int) func() { return func() {} }

// groupAlive: Windows has no process groups; the process alone is waited
// for.
func groupAlive(int) bool { return false }

// chownTo has nothing to do on Windows (no user switch).
func chownTo(string, string) error { return nil }

// noCoreDump: no core dumps on Windows.
func noCoreDump(int) {}
