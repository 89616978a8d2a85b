// Package clusterlock is what several containers of one deployment share to
// do a thing once: an exclusive lock (the release commands run under it,
// one container at a time) and a record of claimed slots (a scheduled
// time runs in the one container that claims it first).
//
// Two kinds of store, named by a URL:
//
//   - postgres://… (or postgresql://…): the project's own PostgreSQL.
//     Locks are session advisory locks (pg_advisory_lock) on a connection
//     held while the lock is: a crashed holder's lock is freed by the
//     database when its connection ends. Claims are rows of a small table,
//     caddy_django_schedule_runs, created when first needed.
//   - file:<dir>: a directory on a volume the containers share. Locks are
//     flock(2) locks on files in it (freed by the kernel when the holder
//     dies); claims are small files written under such a lock.
//
// Open only parses the URL: nothing is contacted before Lock or Claim.
package clusterlock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Store is a lock and a record of claimed slots shared by containers.
type Store interface {
	// Lock takes the exclusive lock called name, waiting until ctx ends.
	// When it has to wait, it calls waiting once first with a description
	// of the holder (e.g. "caddy-django web-1 pid 7"; "" when unknown).
	// unlock frees it; the lock is also freed when the process dies.
	Lock(ctx context.Context, name string, waiting func(holder string)) (unlock func() error, err error)

	// Claim records slot as run for name unless that slot, or a later
	// one, is recorded already: Won reports whether this caller got it.
	// Claims are monotonic: a slot earlier than the last one claimed is
	// never won.
	Claim(ctx context.Context, name string, slot time.Time) (Claim, error)

	// String is the store's URL with any password hidden.
	String() string
}

// Claim is the answer to a claim.
type Claim struct {
	// Won is true when the caller claimed the slot: it runs the job.
	Won bool
	// By is the owner recorded for the latest claimed slot (the caller's
	// own when Won).
	By string
	// Slot is the latest claimed slot (the caller's when Won).
	Slot time.Time
}

// Open parses rawURL (postgres://…, postgresql://… or file:<dir>; a
// relative dir is taken from base) for owner, which names this container
// to the others (in waits and claims), e.g. its host name and PID.
// dj-database-url's other PostgreSQL schemes (postgis://, pgsql://) are
// taken as postgres://, so that a project's DATABASE_URL serves as is.
func Open(rawURL, base, owner string) (Store, error) {
	for _, alias := range []string{"postgis://", "pgsql://"} {
		if rest, ok := strings.CutPrefix(rawURL, alias); ok {
			rawURL = "postgres://" + rest
		}
	}
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(rawURL, owner)
	case strings.HasPrefix(rawURL, "file:"):
		dir := strings.TrimPrefix(strings.TrimPrefix(rawURL, "file:"), "//")
		if dir == "" {
			return nil, errors.New("file: needs a directory, e.g. file:/shared/locks")
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(base, dir)
		}
		return &fileStore{dir: filepath.Clean(dir), owner: owner}, nil
	case rawURL == "":
		return nil, errors.New("no URL")
	}
	return nil, fmt.Errorf("%s: want postgres://USER:PASSWORD@HOST:PORT/DATABASE or file:<directory>", Redact(rawURL))
}

// Redact returns rawURL with its password (in the user info, or a password
// or sslpassword parameter) replaced by "xxxxx". Of text that does not
// parse as a URL, what stands between the user name and the host is hidden
// (or everything after the scheme, when that cannot be told).
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		scheme, rest, _ := strings.Cut(rawURL, "://")
		userinfo, host, ok := strings.Cut(rest, "@")
		if !ok || strings.Contains(userinfo, "/") {
			return scheme + "://…"
		}
		user, _, _ := strings.Cut(userinfo, ":")
		return scheme + "://" + user + ":xxxxx@" + host
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// key maps a lock's name to a 64-bit advisory lock key, the same in every
// container.
func key(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("caddy-django:" + name))
	return int64(h.Sum64())
}

// waitError is the error of a Lock whose ctx ended while it waited.
func waitError(ctx context.Context, name string, waited time.Duration, holder string) error {
	by := ""
	if holder != "" {
		by = " (held by " + holder + ")"
	}
	return fmt.Errorf("lock %q not had within %s%s: %w", name, waited.Round(time.Millisecond), by, context.Cause(ctx))
}
