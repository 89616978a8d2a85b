//go:build unix

package caddydjango

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

var signalsByName = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"HUP": syscall.SIGHUP, "KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2, "WINCH": syscall.SIGWINCH, "TTIN": syscall.SIGTTIN,
	"TTOU": syscall.SIGTTOU, "CONT": syscall.SIGCONT, "STOP": syscall.SIGSTOP,
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "SEGV": syscall.SIGSEGV,
}

// parseSignal accepts TERM, SIGTERM, term or a number.
func parseSignal(name string) (os.Signal, error) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG")
	if s, ok := signalsByName[n]; ok {
		return s, nil
	}
	if i, err := strconv.Atoi(n); err == nil && i > 0 && i < 65 {
		return syscall.Signal(i), nil
	}
	return nil, fmt.Errorf("unknown signal %q (use TERM, INT, QUIT, HUP, KILL, USR1, USR2, WINCH, TTIN, TTOU)", name)
}

func signalName(s syscall.Signal) string {
	for n, v := range signalsByName {
		if v == s {
			return n
		}
	}
	return strconv.Itoa(int(s))
}

// configureCmd puts the program in its own process group (so stopping it
// reaches its children too) and sets the user.
func configureCmd(cmd *exec.Cmd, username string) error {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(attr)
	if username != "" {
		cred, err := lookupCredential(username)
		if err != nil {
			return err
		}
		attr.Credential = cred
	}
	cmd.SysProcAttr = attr
	return nil
}

func lookupCredential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.Atoi(name); nerr == nil {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("user %q: %v", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if os.Geteuid() != 0 && int(uid) != os.Geteuid() {
		return nil, fmt.Errorf("user %q: Caddy must run as root to switch users", name)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// signalGroup signals the process group led by pid.
func signalGroup(pid int, sig os.Signal) error { return kill(pid, -pid, sig) }

// signalProcess signals pid alone (not its group).
func signalProcess(pid int, sig os.Signal) error { return kill(pid, pid, sig) }

// kill sends sig to target (pid, or -pid for its group); a target that is
// already gone is no error.
func kill(pid, target int, sig os.Signal) error {
	if pid <= 0 {
		return errors.New("no process")
	}
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("unsupported signal %v", sig)
	}
	err := syscall.Kill(target, s)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

func killGroup(pid int) error { return signalGroup(pid, syscall.SIGKILL) }

// groupAlive reports whether process group pgid still has a member that
// has not exited. Members whose leader is gone were reparented to PID 1 (or
// a subreaper); when Caddy is that, they are reaped here.
func groupAlive(pgid int) bool {
	if pgid <= 0 {
		return false
	}
	reapOrphans()
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	return !zombieGroup(pgid)
}

// controlSignals ask a running program to do something (Gunicorn: HUP
// reloads the workers, TTIN/TTOU add or remove one, USR1 reopens the logs,
// USR2 and WINCH are its upgrade and graceful worker stop). Its master
// handles them and tells its children what to do; Gunicorn's workers reset
// SIGHUP to its default action, so a HUP to the whole group would kill
// every worker mid-request.
var controlSignals = []syscall.Signal{syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// isControlSignal reports whether sig goes to the program itself rather
// than to its whole process group (see controlSignals).
func isControlSignal(sig os.Signal) bool {
	s, ok := sig.(syscall.Signal)
	return ok && slices.Contains(controlSignals, s)
}

func exitInfoFromWaitStatus(ws syscall.WaitStatus) exitInfo {
	if ws.Signaled() {
		return exitInfo{code: -1, signal: signalName(ws.Signal())}
	}
	return exitInfo{code: ws.ExitStatus()}
}

func exitInfoFromCmd(cmd *exec.Cmd, err error) exitInfo {
	if cmd.ProcessState != nil {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			return exitInfoFromWaitStatus(ws)
		}
		return exitInfo{code: cmd.ProcessState.ExitCode()}
	}
	return exitInfo{code: -1, err: err}
}

// startWatchdog guards a process group against Caddy's sudden death
// (SIGKILL, SIGQUIT, a crash): a tiny shell reads from a pipe whose write end
// only Caddy holds. If Caddy dies, the read fails at EOF and the shell kills
// the whole group at once; Linux's parent-death signal alone would reach only
// the group leader, and Gunicorn's orphaned workers would keep the port for
// up to half their timeout. The returned func dismisses the watchdog without
// a kill (the normal path) and reaps it: nothing waits for it meanwhile (a
// goroutine blocked in wait holds an OS thread, one per supervised process).
func startWatchdog(pgid int) (dismiss func()) {
	sh, err := exec.LookPath("/bin/sh")
	if err != nil {
		return func() {}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	defer r.Close()
	cmd := exec.Command(sh, "-c", "read -r _ || kill -KILL -"+strconv.Itoa(pgid)+" 2>/dev/null")
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := startCmd(cmd); err != nil {
		w.Close()
		return func() {}
	}
	return func() {
		_, _ = w.Write([]byte("done\n"))
		w.Close()
		waitCmd(cmd)
	}
}

// chownTo gives path to the user a process runs as (nothing to do when it
// runs as Caddy's user).
func chownTo(path, username string) error {
	if username == "" {
		return nil
	}
	cred, err := lookupCredential(username)
	if err != nil {
		return err
	}
	return os.Chown(path, int(cred.Uid), int(cred.Gid))
}
