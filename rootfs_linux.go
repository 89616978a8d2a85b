//go:build linux

package caddydjango

import (
	"errors"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// openat2Off is set once openat2 turns out to be unavailable: a kernel
// before 5.6, or a seccomp filter (old container runtimes) that refuses it.
var openat2Off atomic.Bool

func beneathSupported() bool { return !openat2Off.Load() }

// openBeneath opens name (clean, slash-separated, relative) in the
// directory dir with openat2(RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS): the
// kernel refuses `..`, absolute paths and symlinks that leave dir. ok is
// false when openat2 is unavailable; the caller then uses os.Root.
func openBeneath(dir *os.File, name string) (file *os.File, err error, ok bool) {
	if openat2Off.Load() {
		return nil, nil, false
	}
	rc, err := dir.SyscallConn()
	if err != nil {
		return nil, nil, false
	}
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd := -1
	// Control keeps dir's descriptor open (and its number ours) meanwhile
	cerr := rc.Control(func(dirfd uintptr) {
		for {
			fd, err = unix.Openat2(int(dirfd), name, &how)
			if !errors.Is(err, unix.EINTR) {
				return
			}
		}
	})
	if cerr != nil {
		return nil, nil, false
	}
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		openat2Off.Store(true)
		return nil, nil, false
	}
	if err != nil {
		return nil, err, true
	}
	return os.NewFile(uintptr(fd), name), nil, true
}
