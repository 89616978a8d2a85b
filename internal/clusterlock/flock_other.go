//go:build !unix

package clusterlock

import (
	"errors"
	"os"
)

// errWouldBlock: another open file holds the lock.
var errWouldBlock = errors.New("locked")

// tryLock: file locks need flock(2) (Linux, macOS, the BSDs).
func tryLock(*os.File) error {
	return errors.New("file: locks need flock(2), which this system lacks; use postgres://")
}
