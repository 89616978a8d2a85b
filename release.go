package caddydjango

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Release commands (`release` in the django block: migrate, collectstatic…)
// run before a new Gunicorn starts: at boot, on a reload that changes it,
// and on a deploy. Their output is logged as django.release, line by line.

// runReleases runs the release commands in order, under the cluster lock
// when there is one (clusterlock.go); the first failure stops them and its
// output is part of the error.
func (a *App) runReleases(ctx context.Context) error {
	unlock, err := a.takeReleaseLock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	for _, s := range a.releases {
		if err := a.runRelease(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) runRelease(ctx context.Context, s *spec) error {
	if run, err := a.releaseWanted(ctx, s); !run || err != nil {
		return err
	}
	argv, timeout := s.Argv, s.Timeout
	if timeout == 0 {
		timeout = time.Duration(a.ReleaseTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := a.logger.Named("release")
	log.Info("running release command", zap.Strings("command", argv))
	start := time.Now()
	st, tail, err := runLogged(ctx, s, argv, timeout, log)
	if err != nil {
		log.Error("release command cannot start", zap.Strings("command", argv), zap.Error(err))
		return fmt.Errorf("release command %q cannot start: %v", strings.Join(argv, " "), err)
	}
	if st.code != 0 || st.err != nil {
		out := strings.TrimSpace(tail)
		log.Error("release command failed", zap.Strings("command", argv), zap.String("exit", st.String()),
			zap.String("output", lastLines(out, releaseErrorLines)))
		return fmt.Errorf("release command %q failed: %s\n%s", strings.Join(argv, " "), st, out)
	}
	log.Info("release command done", zap.Strings("command", argv), zap.Duration("took", time.Since(start)))
	return nil
}

// runLogged runs argv with s's environment, directory and user until it
// exits or ctx ends (then its group is killed: the exit says it timed out
// after timeout), logging its output line by line on log; it returns how
// it exited and the last bytes of its output. err: it could not start.
func runLogged(ctx context.Context, s *spec, argv []string, timeout time.Duration, log *zap.Logger) (exitInfo, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = s.Env
	cmd.Dir = s.Dir
	if err := configureCmd(cmd, s.User); err != nil {
		return exitInfo{}, "", err
	}
	// A pipe of our own rather than exec's copying goroutines: with the PID 1
	// reaper on, the exit status comes from waitCmd, not cmd.Wait.
	r, w, err := os.Pipe()
	if err != nil {
		return exitInfo{}, "", err
	}
	cmd.Stdout, cmd.Stderr = w, w
	tail := &tailWriter{max: releaseOutputBytes, log: log}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(tail, r)
		r.Close()
		close(copied)
	}()
	err = startCmd(cmd)
	w.Close()
	if err != nil {
		<-copied
		return exitInfo{}, "", err
	}
	st := waitOrKill(ctx, cmd, timeout)
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	tail.flush()
	return st, tail.String(), nil
}

// releaseErrorLines is how many of a failed release command's last lines of
// output its error entry carries.
const releaseErrorLines = 20

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitOrKill waits for cmd to exit, or kills its process group when ctx
// ends first (the exit then says it timed out after timeout); either way
// nothing of the group outlives it.
func waitOrKill(ctx context.Context, cmd *exec.Cmd, timeout time.Duration) exitInfo {
	exited := make(chan exitInfo, 1)
	go func() { exited <- waitCmd(cmd) }()
	var st exitInfo
	select {
	case st = <-exited:
	case <-ctx.Done():
		_ = killGroup(cmd.Process.Pid)
		<-exited
		st = exitInfo{code: -1, err: fmt.Errorf("timed out after %s", timeout)}
	}
	_ = killGroup(cmd.Process.Pid) // nothing of it may outlive it
	return st
}

// tailWriter logs each line and keeps the last max bytes.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	partial []byte
	log     *zap.Logger
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	t.partial = append(t.partial, b...)
	for {
		i := slices.Index(t.partial, '\n')
		if i < 0 {
			break
		}
		t.log.Info(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	return len(b), nil
}

func (t *tailWriter) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.partial) > 0 {
		t.log.Info(string(t.partial))
		t.partial = nil
	}
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// Interface guards
var (
	_ io.Writer    = (*tailWriter)(nil)
	_ fmt.Stringer = (*tailWriter)(nil)
)
