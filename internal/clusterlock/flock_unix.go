//go:build unix

package clusterlock

import (
	"os"

	"golang.org/x/sys/unix"
)

// errWouldBlock: another open file holds the lock.
var errWouldBlock = unix.EWOULDBLOCK

// tryLock takes f's exclusive flock without waiting. Closing f, or the
// process's end, drops it.
func tryLock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}
