package caddydjango

import (
	"fmt"
	"os/exec"
)

// setExecUser: switching users is not supported on Windows.
func setExecUser(_ *exec.Cmd, user string) error {
	if user != "" {
		return fmt.Errorf("user %q: switching users is not supported on Windows", user)
	}
	return nil
}
