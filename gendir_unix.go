//go:build unix

package caddydjango

import (
	"os"

	"golang.org/x/sys/unix"
)

// flockWorks: a lock file's lock tells a live generation from an abandoned
// one.
const flockWorks = true

// tryLock takes f's exclusive flock without waiting (EWOULDBLOCK when
// another open file holds it). Closing f, or the process's end, drops it.
func tryLock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}
