package clusterlock

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFileLockExcludes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	checkLockExcludes(t, func(owner string) Store { return open(t, "file:"+dir, owner) })
}

func TestFileClaims(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	checkClaims(t, func(owner string) Store { return open(t, "file:"+dir, owner) })
	b, err := os.ReadFile(filepath.Join(dir, "clearsessions.slot"))
	if err != nil || !regexp.MustCompile(`^\d+ web-\d\n$`).Match(b) {
		t.Errorf("clearsessions.slot: %q, %v", b, err)
	}
}

// TestFileMissingDirectory: a lock directory that does not exist is a
// plain error naming it (it is never created: it must be the shared
// volume).
func TestFileMissingDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "not-mounted")
	s := open(t, "file:"+dir, "me")
	want := "lock directory " + dir + " does not exist"
	if _, err := s.Lock(ctxFor(t, 10*time.Second), "release", nil); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Lock: %v; want %q", err, want)
	}
	if _, err := s.Claim(ctxFor(t, 10*time.Second), "job", time.Now()); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Claim: %v; want %q", err, want)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the missing directory was created")
	}
}
