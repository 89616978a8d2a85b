//go:build !linux

package caddydjango

import "os"

func beneathSupported() bool { return false }

// openBeneath is Linux's openat2 fast path; elsewhere os.Root does it all.
func openBeneath(*os.File, string) (*os.File, error, bool) { return nil, nil, false }
