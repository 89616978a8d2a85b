package caddydjango

import (
	"os"
	"path/filepath"
	"sync"

	"go.uber.org/zap"
)

// The private directories of the generation sockets ($TMPDIR/caddy-django-*,
// see listenGeneration). A generation removes its directory when it ends;
// a Caddy killed outright (SIGKILL, a crash, the container's OOM killer)
// cannot, and its directories would stay behind, one per generation, a
// socket file each. So each directory holds a lock file, locked (flock) for
// as long as its generation lives; the kernel drops the lock with the
// process, whatever its PID (in a container Caddy is PID 1 every time). The
// first generation a Caddy makes removes the directories whose lock it can
// take: their Caddy is gone.

// genDirPattern is the directories' name pattern (os.MkdirTemp's).
const genDirPattern = "caddy-django-"

// genLockName is the lock file in each directory. It is locked before it
// gets this name (see makeGenDir), so a lock file found by this name is
// either held or abandoned, never about to be taken.
const genLockName = "lock"

// makeGenDir makes a generation's private directory and returns it with
// its lock, held until the generation ends (see genSocket.close).
func makeGenDir() (string, *os.File, error) {
	dir, err := os.MkdirTemp("", genDirPattern)
	if err != nil {
		return "", nil, err
	}
	tmp := filepath.Join(dir, genLockName+".new")
	lock, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		if err = tryLock(lock); err == nil {
			err = os.Rename(tmp, filepath.Join(dir, genLockName))
		}
		if err != nil {
			_ = lock.Close()
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, lock, nil
}

var sweepOnce sync.Once

// sweepGenDirs removes, once per Caddy process, the generation directories
// of Caddys that are gone: those with a lock file nobody holds. Directories
// without one (another Caddy's, being made; anything else of that name) are
// left alone.
func sweepGenDirs(logger *zap.Logger) {
	sweepOnce.Do(func() {
		removed := removeAbandonedGenDirs(os.TempDir())
		if len(removed) > 0 {
			logger.Info("removed generation socket directories left by a Caddy that did not stop",
				zap.Strings("dirs", removed))
		}
	})
}

// removeAbandonedGenDirs removes the abandoned generation directories in
// tmp and returns them.
func removeAbandonedGenDirs(tmp string) []string {
	if !flockWorks {
		return nil
	}
	dirs, _ := filepath.Glob(filepath.Join(tmp, genDirPattern+"*"))
	var removed []string
	for _, dir := range dirs {
		lock, err := os.OpenFile(filepath.Join(dir, genLockName), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if err := tryLock(lock); err == nil {
			if os.RemoveAll(dir) == nil {
				removed = append(removed, dir)
			}
		}
		_ = lock.Close()
	}
	return removed
}
