package caddydjango

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// A generation's directory is locked while it lives; the directories whose
// lock nobody holds (their Caddy died: the kernel dropped its locks, as
// closing the lock file does here) are removed, and nothing else is: not a
// live generation's (this process's own included), not one being made, not
// another directory of that name.
func TestAbandonedGenDirsAreRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	live, liveLock, err := makeGenDir()
	if err != nil {
		t.Fatal(err)
	}
	defer liveLock.Close()
	dead, deadLock, err := makeGenDir()
	if err != nil {
		t.Fatal(err)
	}
	deadLock.Close() // its Caddy is gone
	making, err := os.MkdirTemp(tmp, genDirPattern)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(making, genLockName+".new"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	other, err := os.MkdirTemp(tmp, genDirPattern+"demo-")
	if err != nil {
		t.Fatal(err)
	}

	if got := removeAbandonedGenDirs(tmp); !slices.Equal(got, []string{dead}) {
		t.Fatalf("removed %q, want only the abandoned %q", got, dead)
	}
	for _, dir := range []string{live, making, other} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v, want it kept", dir, err)
		}
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("%s: %v, want it removed", dead, err)
	}
	liveLock.Close()
	if got := removeAbandonedGenDirs(tmp); !slices.Equal(got, []string{live}) {
		t.Fatalf("after the live generation's lock dropped: removed %q, want %q", got, live)
	}
}

// End to end: the generation directory a SIGKILLed Caddy leaves behind is
// removed by the next Caddy when it makes its own, which it keeps.
func TestSIGKILLedCaddysGenDirIsRemovedByTheNext(t *testing.T) {
	t.Parallel()
	project := newDjangoProject(t)
	entry := "gunicorn demo.wsgi:application {\n\t\t\tcommand " + systemGunicorn + "\n\t\t}"
	dirOf := func(s *djangoSite) string {
		_, path := dialAddress(s.statuses()["gunicorn"].Socket)
		return filepath.Dir(path)
	}
	first := launchDjangoSite(t, project, func(s *djangoSite, admin string) string {
		return appServerConfig(s, admin, "gunicorn", entry, 1, "")
	})
	first.waitState("gunicorn", StateRunning, 90*time.Second)
	old := dirOf(first)
	first.signalAndWait(syscall.SIGKILL, 10*time.Second)
	// (Not asserted left behind: any Caddy of a parallel test that makes
	// its first generation now removes it.)
	second := launchDjangoSite(t, project, func(s *djangoSite, admin string) string {
		return appServerConfig(s, admin, "gunicorn", entry, 1, "")
	})
	second.waitState("gunicorn", StateRunning, 90*time.Second)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("%s: %v, want it removed by the next Caddy", old, err)
	}
	if own := dirOf(second); own == old {
		t.Errorf("the next Caddy's directory is the old one: %s", own)
	} else if _, err := os.Stat(filepath.Join(own, "socket")); err != nil {
		t.Errorf("the next Caddy's own directory: %v", err)
	}
}
