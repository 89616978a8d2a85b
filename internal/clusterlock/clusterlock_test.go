package clusterlock

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// One real PostgreSQL for the package's tests (started by the first test
// that needs it), a database per test.
var pg struct {
	once   sync.Once
	server *testkit.Postgres
	err    error
	n      int
	mu     sync.Mutex
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.server != nil {
		if err := pg.server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// postgresURL returns the URL of a new database on the package's
// PostgreSQL.
func postgresURL(t *testing.T) string {
	t.Helper()
	pg.once.Do(func() { pg.server, pg.err = testkit.StartPostgres() })
	if pg.err != nil {
		t.Fatal(pg.err)
	}
	pg.mu.Lock()
	pg.n++
	db := fmt.Sprintf("test%d", pg.n)
	pg.mu.Unlock()
	if err := pg.server.CreateDatabase(db); err != nil {
		t.Fatal(err)
	}
	return pg.server.URL(db)
}

func open(t *testing.T, url, owner string) Store {
	t.Helper()
	s, err := Open(url, "/base", owner)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestOpen: the URLs Open takes, and plain errors (no password) for the
// others.
func TestOpen(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"postgres://app:s3cret@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"postgresql://app@db/app?sslmode=disable&password=s3cret", "postgresql://app@db/app?password=xxxxx&sslmode=disable"},
		{"postgis://app:s3cret@db/app", "postgres://app:xxxxx@db/app"},
		{"file:/shared/locks", "file:/shared/locks"},
		{"file:///shared/locks/", "file:/shared/locks"},
		{"file:locks", "file:/base/locks"},
	} {
		s, err := Open(c.url, "/base", "me")
		if err != nil {
			t.Errorf("Open(%q): %v", c.url, err)
			continue
		}
		if s.String() != c.want {
			t.Errorf("Open(%q).String() = %q, want %q", c.url, s.String(), c.want)
		}
	}
	for _, c := range []struct{ url, want string }{
		{"redis://:s3cret@cache:6379", "redis://:xxxxx@cache:6379: want postgres://USER:PASSWORD@HOST:PORT/DATABASE or file:<directory>"},
		{"postgres://app:s3cret@db:notaport/app", "cannot parse `postgres://app:xxxxx@db:notaport/app`: invalid port"},
		{"file:", "file: needs a directory"},
		{"", "no URL"},
	} {
		_, err := Open(c.url, "/base", "me")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) = %v; want an error starting %q, without the password", c.url, err, c.want)
		}
	}
}

// TestKeyIsStable: every container maps a name to the same advisory lock
// key, and different names to different keys.
func TestKeyIsStable(t *testing.T) {
	if key("release") != key("release") || key("release") == key("release2") {
		t.Fatal("key is not a function of the name")
	}
}

// TestRedact: passwords are hidden, even in URLs that do not parse.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://app:s3cret@db:5432/app":     "postgres://app:xxxxx@db:5432/app",
		"postgres://app:s3cret@db:notaport/app": "postgres://app:xxxxx@db:notaport/app",
		"postgres://app@db/app?password=s3cret": "postgres://app@db/app?password=xxxxx",
		"postgres://db/app":                     "postgres://db/app",
		"postgres://a:s3cret/x@db:notaport/app": "postgres://…",
		"file:/shared":                          "file:/shared",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// checkLockExcludes: while a holds the lock, b waits (told who holds it)
// and gets it once a unlocks; c gives up when its context ends, saying how
// long it waited and for whom.
func checkLockExcludes(t *testing.T, mk func(owner string) Store) {
	a, b, c := mk("web-a pid 1"), mk("web-b pid 2"), mk("web-c pid 3")
	unlockA, err := a.Lock(ctxFor(t, 30*time.Second), "release", func(string) { t.Error("a waited for a free lock") })
	if err != nil {
		t.Fatal(err)
	}
	told := make(chan string, 1)
	got := make(chan error, 1)
	var unlockB func() error
	go func() {
		var err error
		unlockB, err = b.Lock(ctxFor(t, 60*time.Second), "release", func(holder string) { told <- holder })
		got <- err
	}()
	select {
	case holder := <-told:
		if holder != "web-a pid 1" {
			t.Errorf("b was told the holder is %q, want web-a pid 1", holder)
		}
	case err := <-got:
		t.Fatalf("b got the lock a holds: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("b was not told it waits")
	}
	// c gives up
	_, err = c.Lock(ctxFor(t, 500*time.Millisecond), "release", nil)
	if err == nil || !strings.Contains(err.Error(), `lock "release" not had within`) || !strings.Contains(err.Error(), "held by web-a pid 1") {
		t.Errorf("c's wait that timed out: %v", err)
	}
	select {
	case err := <-got:
		t.Fatalf("b got the lock while a held it: %v", err)
	default:
	}
	// another name is another lock
	unlockOther, err := c.Lock(ctxFor(t, 30*time.Second), "other", func(string) { t.Error("c waited for another lock") })
	if err != nil {
		t.Fatal(err)
	}
	if err := unlockOther(); err != nil {
		t.Error(err)
	}
	if err := unlockA(); err != nil {
		t.Errorf("a's unlock: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("b did not get the lock a freed")
	}
	if err := unlockB(); err != nil {
		t.Errorf("b's unlock: %v", err)
	}
}

// checkClaims: of several stores claiming one slot at once, exactly one
// wins and the others are told who; a later slot can be won again; an
// earlier one never.
func checkClaims(t *testing.T, mk func(owner string) Store) {
	slot := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for round, s := range []time.Time{slot, slot.Add(time.Minute)} {
		var wg sync.WaitGroup
		claims := make([]Claim, 5)
		errs := make([]error, 5)
		for i := range claims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				claims[i], errs[i] = mk(fmt.Sprintf("web-%d", i)).Claim(ctxFor(t, 60*time.Second), "clearsessions", s)
			}()
		}
		wg.Wait()
		won := ""
		for i, c := range claims {
			if errs[i] != nil {
				t.Fatalf("round %d: claim %d: %v", round, i, errs[i])
			}
			if c.Won {
				if won != "" {
					t.Fatalf("round %d: slot %s won twice: %s and %s", round, s, won, c.By)
				}
				won = c.By
			}
		}
		if won == "" {
			t.Fatalf("round %d: nobody won slot %s: %+v", round, s, claims)
		}
		for _, c := range claims {
			if !c.Won && (c.By != won || !c.Slot.Equal(s)) {
				t.Errorf("round %d: a loser was told %q at %s, want %q at %s", round, c.By, c.Slot, won, s)
			}
		}
	}
	// an earlier slot (a container whose clock lags) is never won
	c, err := mk("late").Claim(ctxFor(t, 30*time.Second), "clearsessions", slot)
	if err != nil || c.Won || !c.Slot.Equal(slot.Add(time.Minute)) {
		t.Errorf("an earlier slot: %+v, %v; want lost to the later one", c, err)
	}
	// another schedule has its own slots
	c, err = mk("web-0").Claim(ctxFor(t, 30*time.Second), "digest", slot)
	if err != nil || !c.Won {
		t.Errorf("another schedule's slot: %+v, %v; want won", c, err)
	}
}
