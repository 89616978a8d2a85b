package caddydjango

import (
	"bytes"
	"testing"
	"time"
)

// TestFormatCluster: what `caddy django status` says about the drain and
// the lock, and nothing when there is nothing to say.
func TestFormatCluster(t *testing.T) {
	at := time.Date(2026, 12, 1, 3, 4, 5, 0, time.Local)
	for _, c := range []struct {
		name string
		st   ClusterStatus
		want string
	}{
		{"nothing", ClusterStatus{Drain: "0s", DrainReason: "default: no health check in the last 1m0s"}, ""},
		{"default drain", ClusterStatus{Drain: "5s", DrainReason: "default while health is checked (last 2s ago)"},
			"\ndrain on stop: 5s (default while health is checked (last 2s ago))\n"},
		{"draining", ClusterStatus{Draining: true, DrainLeft: "3.2s", Drain: "10s"},
			"\nDRAINING: health answers 503; the graceful stop begins in 3.2s\n"},
		{"stopping", ClusterStatus{Draining: true, Drain: "10s"},
			"\nSTOPPING: health answers 503; Caddy stops gracefully\n"},
		{"lock", ClusterStatus{Drain: "0s", Lock: "postgres://app:xxxxx@db/app", LockWaits: 2, LastLockWait: "3.1s", LockErrors: 1,
			LastLockError: "release lock postgres://app:xxxxx@db/app: cannot connect", LastLockErrorAt: at},
			"\nlock postgres://app:xxxxx@db/app; releases waited for it 2 time(s); last release got it in 3.1s; 1 error(s), last at 2026-12-01 03:04:05: release lock postgres://app:xxxxx@db/app: cannot connect\n"},
	} {
		var b bytes.Buffer
		formatCluster(&b, c.st)
		if b.String() != c.want {
			t.Errorf("%s:\n%q\nwant\n%q", c.name, b.String(), c.want)
		}
	}
}
