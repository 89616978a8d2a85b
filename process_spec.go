package caddydjango

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/caddy-django/caddy-django/internal/clusterlock"
)

// spec is a resolved, immutable process definition. Its key identifies it
// across config reloads: same key, same process.
type spec struct {
	Name        string        `json:"name"`
	Group       string        `json:"group"`
	Argv        []string      `json:"argv"`
	Env         []string      `json:"env"`
	Dir         string        `json:"dir"`
	User        string        `json:"user,omitempty"`
	Autorestart string        `json:"autorestart"`
	ExitCodes   []int         `json:"exitcodes"`
	StartSecs   time.Duration `json:"startsecs"`
	Retries     int           `json:"startretries"`
	Backoff     time.Duration `json:"backoff"`
	BackoffMax  time.Duration `json:"backoff_max"`
	StopSignal  string        `json:"stop_signal"`
	StopTimeout time.Duration `json:"stop_timeout"`
	Priority    int           `json:"priority"`
	Essential   bool          `json:"essential"`
	Disabled    bool          `json:"disabled,omitempty"`

	// max_memory as configured ("512MiB", "80%"), parsed; memLimit is it
	// in bytes, set when the config starts (resolveMemoryLimits; 0: not
	// enforced).
	MaxMemory string `json:"max_memory,omitempty"`
	maxMemory memoryLimit
	memLimit  int64

	// before_release and `ready` ("tcp 127.0.0.1:5432"), processes only.
	BeforeRelease bool   `json:"before_release,omitempty"`
	Ready         string `json:"ready,omitempty"`

	// Schedules only: the cron spec and the limit of one run.
	Schedule string        `json:"schedule,omitempty"`
	Timeout  time.Duration `json:"timeout,omitempty"`
	// `once` schedules: the lock (its URL in the key: a new lock is a new
	// schedule) where they claim their slots (clusterlock.go).
	Once    bool              `json:"once,omitempty"`
	LockKey string            `json:"lock,omitempty"`
	claims  clusterlock.Store // the App's lock

	// App servers only: the kind (empty for gunicorn), the listening socket
	// Caddy holds, and readiness: a probe on the generation's own socket
	// (fd 4), or a line of output, and an HTTP path.
	Server       string        `json:"server,omitempty"`
	Bind         bindAddr      `json:"bind,omitzero"`
	ProbeFD      bool          `json:"-"`
	OwnFD        bool          `json:"-"` // serves fd 4 (ProbeFD too)
	StopMaster   bool          `json:"-"` // the stop signal to the leader alone
	ReadyLine    string        `json:"ready_line,omitempty"`
	ReadyPath    string        `json:"ready_path,omitempty"`
	ReadyTimeout time.Duration `json:"ready_timeout,omitempty"`
	// WatchApp: with `watch`, the application, loaded through the wrapper
	// (watch_app.go) that imports the URLconf as each worker starts.
	WatchApp string   `json:"watch_app,omitempty"`
	launcher []string // the command before the server's arguments
	app      string   // the WSGI/ASGI application, config.wsgi:application

	// Release commands only: the `if` / `unless` check (conditions.go).
	check *releaseCheck

	key string
}

// appServer reports whether s is an app server (it has a held socket).
func (s *spec) appServer() bool { return s.Bind != (bindAddr{}) }

// stableRun reports whether a program that ran for d before it exited was
// stable: its restart is immediate and its backoff starts over.
func (s *spec) stableRun(d time.Duration) bool { return d >= max(stableRunMinimum, s.StartSecs) }

func (s *spec) computeKey() {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	s.key = s.Name + "@" + hex.EncodeToString(sum[:8])
}

func (s *spec) validate() error {
	if len(s.Argv) == 0 || s.Argv[0] == "" {
		return fmt.Errorf("missing command")
	}
	if _, err := parseSignal(s.StopSignal); err != nil {
		return err
	}
	switch s.Autorestart {
	case "always", "unexpected", "never":
	default:
		return fmt.Errorf("autorestart %q: want always, unexpected or never", s.Autorestart)
	}
	if s.Retries < 0 {
		return fmt.Errorf("startretries must not be negative")
	}
	return nil
}
