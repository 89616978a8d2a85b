//go:build unix

package testkit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// PostgresBin is where Debian's postgresql-15 keeps its programs (not on
// PATH: /usr/bin has only the pg_wrapper scripts, which want a cluster of
// pg_createcluster's).
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Postgres is a PostgreSQL server of its own for one test: a new cluster
// in a temporary directory (initdb, trust authentication, fsync off),
// listening on a free loopback port and on a unix socket in its directory,
// run as the `postgres` user when the tests run as root (PostgreSQL refuses
// to run as root).
type Postgres struct {
	Dir  string // the temporary directory: data/, the socket, the log
	Port int
	// User is the cluster's superuser (the OS user initdb ran as).
	User string
	cred *syscall.Credential // nil: run as the current user
}

// StartPostgres initialises and starts a new PostgreSQL cluster; Stop
// removes it. A missing PostgreSQL is an error naming the Debian package.
func StartPostgres() (*Postgres, error) {
	if _, err := os.Stat(filepath.Join(PostgresBin, "initdb")); err != nil {
		return nil, fmt.Errorf("no PostgreSQL 15 at %s: install with `sudo apt-get install -y postgresql`", PostgresBin)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "caddy-django-pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir, Port: port}
	if err := p.start(); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Postgres) start() error {
	me, err := user.Current()
	if err != nil {
		return err
	}
	p.User = me.Username
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root, and no `postgres` user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		p.User, p.cred = pg.Username, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(p.Dir, uid, gid); err != nil {
			return err
		}
	}
	if err := os.Chmod(p.Dir, 0o755); err != nil {
		return err
	}
	data := filepath.Join(p.Dir, "data")
	if out, err := p.run("initdb", "-D", data, "-A", "trust", "-U", p.User, "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", p.Port, p.Dir)
	if out, err := p.run("pg_ctl", "-D", data, "-o", opts, "-l", p.LogPath(), "-w", "-t", "120", "start"); err != nil {
		log, _ := os.ReadFile(p.LogPath())
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// run runs one of PostgreSQL's programs as the cluster's user.
func (p *Postgres) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(PostgresBin, prog), args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGHOST="+p.Dir, "PGPORT="+strconv.Itoa(p.Port))
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd.CombinedOutput()
}

// LogPath is the server's log file.
func (p *Postgres) LogPath() string { return filepath.Join(p.Dir, "log") }

// URL is the connection URL of database db as the superuser, over TCP
// without TLS.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", p.User, p.Port, db)
}

// CreateDatabase creates database name.
func (p *Postgres) CreateDatabase(name string) error {
	if out, err := p.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", p.User, name); err != nil {
		return fmt.Errorf("createdb %s: %v\n%s", name, err, out)
	}
	return nil
}

// SQL runs statements in database db with psql and returns its unaligned,
// tuples-only output.
func (p *Postgres) SQL(db, statements string) (string, error) {
	out, err := p.run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port),
		"-U", p.User, "-d", db, "-c", statements)
	if err != nil {
		return "", fmt.Errorf("psql: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Stop stops the server at once (connections are cut, as in a crash) and
// removes its directory.
func (p *Postgres) Stop() error {
	var err error
	data := filepath.Join(p.Dir, "data")
	if _, serr := os.Stat(filepath.Join(data, "postmaster.pid")); serr == nil {
		if out, e := p.run("pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "60", "stop"); e != nil {
			err = fmt.Errorf("pg_ctl stop: %v\n%s", e, out)
		}
	}
	return errors.Join(err, os.RemoveAll(p.Dir))
}
