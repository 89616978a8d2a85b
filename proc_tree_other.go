//go:build !linux

package caddydjango

// treeRSS is not available outside Linux (no /proc): the resident memory
// metric is left out.
func treeRSS(int) (int64, bool) { return 0, false }
