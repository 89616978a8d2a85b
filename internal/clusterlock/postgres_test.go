package clusterlock

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresLockExcludes(t *testing.T) {
	t.Parallel()
	url := postgresURL(t)
	checkLockExcludes(t, func(owner string) Store { return open(t, url, owner) })
}

func TestPostgresClaims(t *testing.T) {
	t.Parallel()
	url := postgresURL(t)
	checkClaims(t, func(owner string) Store { return open(t, url, owner) })
}

// TestPostgresLockFreedWithSession: when the holder's connection ends (its
// process crashed: here its backend is terminated), the database frees the
// lock and the waiter gets it; the holder's unlock then reports the loss.
func TestPostgresLockFreedWithSession(t *testing.T) {
	t.Parallel()
	url := postgresURL(t)
	unlockA, err := open(t, url, "crashing").Lock(ctxFor(t, 30*time.Second), "release", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	waiting := make(chan struct{})
	go func() {
		unlock, err := open(t, url, "waiter").Lock(ctxFor(t, 60*time.Second), "release", func(string) { close(waiting) })
		if err == nil {
			err = unlock()
		}
		got <- err
	}()
	<-waiting
	conn, err := pgx.Connect(ctxFor(t, 10*time.Second), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctxFor(t, 10*time.Second),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'caddy-django crashing'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating the holder's backend: %d, %v", n, err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiter did not get the lock of a holder whose session ended")
	}
	if err := unlockA(); err == nil || !strings.Contains(err.Error(), "connection was lost") {
		t.Errorf("the lost holder's unlock: %v; want an error saying its connection was lost", err)
	}
}

// TestPostgresUnreachable: a server that cannot be reached is an error
// naming the host and port and why, never the password.
func TestPostgresUnreachable(t *testing.T) {
	t.Parallel()
	s := open(t, "postgres://app:s3cret@127.0.0.1:1/app?sslmode=disable&connect_timeout=5", "me")
	_, err := s.Lock(ctxFor(t, 30*time.Second), "release", nil)
	if err == nil || !strings.Contains(err.Error(), "cannot connect to PostgreSQL at 127.0.0.1:1") ||
		!strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Lock on an unreachable server: %v", err)
	}
	_, err = s.Claim(ctxFor(t, 30*time.Second), "job", time.Now())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Claim on an unreachable server: %v", err)
	}
}

// TestPostgresClaimsTable: the claims table is created once, with a
// comment saying whose it is; its row shows the last slot and who ran it.
func TestPostgresClaimsTable(t *testing.T) {
	t.Parallel()
	url := postgresURL(t)
	slot := time.Date(2026, 12, 1, 3, 4, 0, 0, time.UTC)
	if _, err := open(t, url, "web-1").Claim(ctxFor(t, 30*time.Second), "digest", slot); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctxFor(t, 10*time.Second), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var owner, comment string
	var at time.Time
	if err := conn.QueryRow(ctxFor(t, 10*time.Second), "SELECT slot, owner, obj_description('"+claimsTable+"'::regclass) FROM "+claimsTable+" WHERE name = 'digest'").Scan(&at, &owner, &comment); err != nil {
		t.Fatal(err)
	}
	if !at.Equal(slot) || owner != "web-1" || !strings.HasPrefix(comment, "caddy-django:") {
		t.Errorf("row: %s %q %q", at, owner, comment)
	}
}
