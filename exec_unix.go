//go:build unix

package caddydjango

import (
	"os/exec"
	"syscall"
)

// setExecUser runs cmd as user (none: this process's user). It stays in
// this process's process group, so that the terminal's job control and
// signals (Ctrl-C) reach it.
func setExecUser(cmd *exec.Cmd, user string) error {
	if user == "" {
		return nil
	}
	cred, err := lookupCredential(user)
	if err != nil {
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return nil
}
