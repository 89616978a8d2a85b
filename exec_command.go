package caddydjango

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// `caddy django exec`: a one-off command (createsuperuser, shell, a data
// fix, migrate as a pre-deploy job) with exactly the running app's root,
// environment (env, env_file as loaded) and user, taken from the running
// Caddy through GET /django/exec-env.

// ExecEnv is what GET /django/exec-env answers: what a one-off command of
// the app runs with.
type ExecEnv struct {
	// Root is the app's root, the command's working directory.
	Root string `json:"root"`

	// Env is the app's environment as its processes get it: Caddy's, then
	// `env`, then `env_file` (as loaded with the current config).
	Env []string `json:"env"`

	// User is the app server's user (the first app server's `user`), if set.
	User string `json:"user,omitempty"`
}

// execEnv returns what `caddy django exec` runs a command with.
func (a *App) execEnv() ExecEnv {
	e := ExecEnv{Root: a.Root, Env: a.env}
	if g := a.appServerSpec(""); g != nil {
		e.User = g.User
	}
	return e
}

// execCommand is `caddy django exec`.
func execCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "exec [--] <command> [<args...>]",
		Short: "Runs a command with the running app's root, environment and user",
		Long: `
Runs <command> in the foreground with the running django app's root as its
working directory, its environment (Caddy's, then env, then env_file as it
was loaded with the current config) and the gunicorn entry's user, if set.
stdin, stdout and stderr are attached (interactive 'createsuperuser' and
'shell' work in a terminal), and this exits with the command's exit code.

	caddy django exec python manage.py createsuperuser
	caddy django exec -- python manage.py migrate --noinput

The environment comes from the running Caddy's admin API; without a running
Caddy this fails and says so.
`,
		Args: cobra.MinimumNArgs(1),
		RunE: runExec,
	}
	c.Flags().SetInterspersed(false) // flags after <command> are its own
	return c
}

func runExec(c *cobra.Command, args []string) error {
	addr, err := adminAddress(c)
	if err != nil {
		return err
	}
	body, err := adminRequest(addr, http.MethodGet, "/django/exec-env")
	if err != nil {
		return err
	}
	var env ExecEnv
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("decoding the admin API's answer: %v", err)
	}
	cmd, err := env.command(args)
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	os.Exit(runForeground(cmd))
	return nil
}

// command builds the command: the program is looked up in the app's PATH.
func (e ExecEnv) command(args []string) (*exec.Cmd, error) {
	prog, err := lookPathIn(args[0], envValue(e.Env, "PATH"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env, cmd.Dir = e.Env, e.Root
	if err := setExecUser(cmd, e.User); err != nil {
		return nil, err
	}
	return cmd, nil
}

// runForeground runs cmd and returns its exit code (128+N when killed by
// signal N). Signals meant for it reach it: the terminal's (INT, QUIT) go
// to the whole foreground group, TERM and HUP sent to this process are
// passed on.
func runForeground(cmd *exec.Cmd) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "caddy django exec: %v\n", err)
		return 127
	}
	go func() {
		for s := range sigs {
			if s == syscall.SIGTERM || s == syscall.SIGHUP {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "caddy django exec: %v\n", err)
		return 1
	}
}

// lookPathIn finds prog in path (a PATH value) unless it has a slash.
func lookPathIn(prog, path string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, prog)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in the app's PATH (%s)", prog, path)
}

// envValue is the value of key in env (KEY=VALUE entries), or "".
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
