//go:build !unix

package caddydjango

import "os"

// flockWorks: no flock here; no directory is ever taken for abandoned.
const flockWorks = false

func tryLock(*os.File) error { return nil }
