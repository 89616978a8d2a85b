package clusterlock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// claimsTable holds, per schedule name, the last slot claimed and by whom.
const claimsTable = "caddy_django_schedule_runs"

// appNamePrefix starts the application_name of our connections, so that a
// waiter can name the holder (pg_stat_activity).
const appNamePrefix = "caddy-django "

// pgStore locks with session advisory locks and claims with rows of
// claimsTable, on one new connection per operation (locks keep theirs
// until unlocked).
type pgStore struct {
	url   string // redacted
	cfg   *pgx.ConnConfig
	owner string

	mu    sync.Mutex
	table bool // claimsTable is known to exist
}

func openPostgres(rawURL, owner string) (*pgStore, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil { // pgx's own text: the URL, password hidden, and why
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	cfg.RuntimeParams["application_name"] = appNamePrefix + owner
	// a cancelled wait is cancelled at the server too (the default only
	// closes the socket, and a backend waiting for a lock does not notice
	// until it gets the lock)
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 2 * time.Second}
	}
	return &pgStore{url: Redact(rawURL), cfg: cfg, owner: owner}, nil
}

func (s *pgStore) String() string { return s.url }

// address is the server's host:port (the first one).
func (s *pgStore) address() string {
	return net.JoinHostPort(s.cfg.Host, strconv.Itoa(int(s.cfg.Port)))
}

// connect opens a connection; its error names the server and why, never
// the password.
func (s *pgStore) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to PostgreSQL at %s: %v", s.address(), err)
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// Lock takes a session advisory lock on a connection of its own, kept
// until unlock: when this process dies, the connection ends and the
// database frees the lock.
func (s *pgStore) Lock(ctx context.Context, name string, waiting func(string)) (func() error, error) {
	start := time.Now()
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	k := key(name)
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", k).Scan(&got); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("taking lock %q on %s: %v", name, s.address(), err)
	}
	if !got {
		holder := s.holder(ctx, conn, k)
		if waiting != nil {
			waiting(holder)
		}
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", k); err != nil {
			closeConn(conn)
			if ctx.Err() != nil {
				return nil, waitError(ctx, name, time.Since(start), holder)
			}
			return nil, fmt.Errorf("waiting for lock %q on %s: %v", name, s.address(), err)
		}
	}
	return func() error {
		defer closeConn(conn)
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var held bool
		if err := conn.QueryRow(uctx, "SELECT pg_advisory_unlock($1)", k).Scan(&held); err != nil {
			return fmt.Errorf("unlocking %q on %s (its connection was lost while it was held?): %v", name, s.address(), err)
		}
		if !held {
			return fmt.Errorf("lock %q on %s was no longer held", name, s.address())
		}
		return nil
	}, nil
}

// holder names the session that holds advisory lock k: our
// application_name's owner, or the backend's PID ("" when unknown).
func (s *pgStore) holder(ctx context.Context, conn *pgx.Conn, k int64) string {
	var app string
	var pid int
	err := conn.QueryRow(ctx, `SELECT coalesce(a.application_name, ''), l.pid
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
		LIMIT 1`, int64(uint32(uint64(k)>>32)), int64(uint32(k))).Scan(&app, &pid)
	switch {
	case err != nil:
		return ""
	case strings.HasPrefix(app, appNamePrefix):
		return strings.TrimPrefix(app, appNamePrefix)
	}
	return fmt.Sprintf("PostgreSQL backend %d", pid)
}

// Claim inserts or advances name's row in claimsTable, atomically: of
// concurrent claims of one slot, one updates the row and the others find
// the slot taken (INSERT … ON CONFLICT DO UPDATE … WHERE waits for the
// first and sees its row).
func (s *pgStore) Claim(ctx context.Context, name string, slot time.Time) (Claim, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return Claim{}, err
	}
	defer closeConn(conn)
	if err := s.ensureTable(ctx, conn); err != nil {
		return Claim{}, err
	}
	var won bool
	err = conn.QueryRow(ctx, `INSERT INTO `+claimsTable+` AS r (name, slot, owner, claimed_at)
		VALUES ($1, $2, $3, now())
		ON CONFLICT (name) DO UPDATE SET slot = EXCLUDED.slot, owner = EXCLUDED.owner, claimed_at = EXCLUDED.claimed_at
		WHERE r.slot < EXCLUDED.slot
		RETURNING true`, name, slot, s.owner).Scan(&won)
	if err == nil {
		return Claim{Won: true, By: s.owner, Slot: slot}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Claim{}, fmt.Errorf("claiming %s's slot %s on %s: %v", name, slot.Format(time.RFC3339), s.address(), err)
	}
	var c Claim
	if err := conn.QueryRow(ctx, `SELECT slot, owner FROM `+claimsTable+` WHERE name = $1`, name).Scan(&c.Slot, &c.By); err != nil {
		return Claim{}, fmt.Errorf("reading %s's last slot on %s: %v", name, s.address(), err)
	}
	return c, nil
}

// ensureTable creates claimsTable unless it exists (once per store). Two
// containers creating it at once would collide in PostgreSQL's catalog
// (CREATE TABLE IF NOT EXISTS is not safe against that): a transaction
// lock serialises them.
func (s *pgStore) ensureTable(ctx context.Context, conn *pgx.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.table {
		return nil
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", claimsTable).Scan(&exists); err != nil {
		return fmt.Errorf("looking for table %s on %s: %v", claimsTable, s.address(), err)
	}
	if !exists {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", key(claimsTable)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+claimsTable+` (
				name text PRIMARY KEY,
				slot timestamptz NOT NULL,
				owner text NOT NULL,
				claimed_at timestamptz NOT NULL
			)`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `COMMENT ON TABLE `+claimsTable+` IS 'caddy-django: the last scheduled time each schedule with once ran at, and the container that ran it'`)
			return err
		})
		if err != nil {
			return fmt.Errorf("creating table %s on %s: %v", claimsTable, s.address(), err)
		}
	}
	s.table = true
	return nil
}

// Interface guards
var _ Store = (*pgStore)(nil)
