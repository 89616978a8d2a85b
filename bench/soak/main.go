//go:build linux

// Command soak runs a Caddy with the plugin for a long time (30 minutes by
// default) under a mixed load while a random lifecycle event happens every
// few seconds, and checks that nothing is lost and nothing grows:
//
//	go -C bench run ./soak -caddy /path/to/caddy -duration 30m
//
// It serves a copy of the demo project with two app servers (Gunicorn and
// uvicorn), a worker, a crash-looping process that recovers, a schedule
// every minute and the django_handoff wrapper. docs/benchmarks.md ("Soak")
// explains what it checks and the bounds. It exits 0 only when every
// figure holds; its last line starts with "soak:".
package main

import (
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

const python = "/usr/bin/python3"

type soak struct {
	caddyBin, root, work string
	duration, warmup     time.Duration
	eventsEvery          time.Duration
	seed                 uint64
	keep                 bool
	only                 string // event kinds to use (comma-separated), default all

	proj, static, media, private, tmp string
	env                               []string
	admin, gport, uport, gbind, ubind int
	cfPath, crashFlag                 string

	mu      sync.Mutex
	workers int // Gunicorn's workers in the loaded config
	rev     int // the sites' X-Soak-Rev header

	caddy       *exec.Cmd
	caddyExited chan struct{}
	caddyLog    string
	done        chan struct{}
	start       time.Time
	rng         *mrand.Rand

	rec     *recorder
	mon     *monitor
	statics *staticPool
	media1  []byte // /media/soak.bin
	privPDF []byte // private_files/report.pdf

	evMu   sync.Mutex
	evs    []*eventRec
	kills  []kill
	cssRev int

	samples []sample
	base    int // processes minus Gunicorn workers at the first sample
}

func main() {
	s := &soak{}
	flag.StringVar(&s.caddyBin, "caddy", "", "Caddy binary with the plugin (go build -o /tmp/caddy ./cmd/caddy)")
	flag.DurationVar(&s.duration, "duration", 30*time.Minute, "how long the load and the events run")
	flag.DurationVar(&s.warmup, "warmup", 5*time.Minute, "resource samples before this are shown but not judged")
	flag.DurationVar(&s.eventsEvery, "events-every", 15*time.Second, "mean pause between two events (uniform in [0.5x, 1.5x])")
	flag.Uint64Var(&s.seed, "seed", 0, "seed of the event schedule and the load (0: a random one, printed)")
	flag.StringVar(&s.root, "root", "", "repository root (default: the first directory up from here with testdata/demo)")
	flag.BoolVar(&s.keep, "keep", false, "keep the work directory (logs, configs)")
	flag.StringVar(&s.only, "events", "", "only these event kinds, comma-separated (default all: "+strings.Join(eventNames, ",")+")")
	flag.Parse()
	if s.caddyBin == "" {
		fmt.Fprintln(os.Stderr, "usage: go -C bench run ./soak -caddy <caddy binary> [-duration 30m] [-seed N] [-events-every 15s] [-warmup 5m]")
		os.Exit(2)
	}
	if s.seed == 0 {
		s.seed = uint64(time.Now().UnixNano()) % 1_000_000
	}
	s.rng = mrand.New(mrand.NewPCG(s.seed, 0x50a6))
	s.caddyBin, _ = filepath.Abs(s.caddyBin)
	if s.root == "" {
		s.root = findRoot()
	}
	s.root, _ = filepath.Abs(s.root)
	ok, err := s.run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: setup failed: %v\n", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (s *soak) run() (bool, error) {
	work, err := os.MkdirTemp("", "caddy-django-soak-")
	if err != nil {
		return false, err
	}
	s.work = work
	defer func() {
		if s.keep {
			logf("work directory kept: %s", s.work)
		} else {
			os.RemoveAll(s.work)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		logf("interrupted: stopping Caddy")
		s.stopCaddy()
		os.RemoveAll(s.work)
		os.Exit(130)
	}()

	logf("soak: seed %d, duration %s, events every ~%s, warm-up %s; work dir %s", s.seed, s.duration, s.eventsEvery, s.warmup, s.work)
	logf("machine: %s; load %s", strings.TrimSpace(cmdOut("nproc")), loadavg())
	if err := s.setup(); err != nil {
		return false, err
	}
	if err := s.startCaddy(); err != nil {
		s.stopCaddy()
		return false, err
	}
	s.rec = newRecorder()
	s.mon = newMonitor(s)
	go s.mon.run(s.done)
	if err := s.readStatics(); err != nil {
		s.stopCaddy()
		return false, err
	}

	s.start = time.Now()
	s.rec.start = s.start
	stopLoad := s.startLoad()
	s.events(s.start.Add(s.duration))
	loadLeft := stopLoad()
	close(s.done)
	loadAvg := loadavg()
	left := s.stopCaddy()
	return s.report(loadLeft, left, loadAvg), nil
}

// setup copies the demo project and writes the files the run needs.
func (s *soak) setup() error {
	s.proj = filepath.Join(s.work, "project")
	skip := map[string]bool{"__pycache__": true, "static_root": true, "media_root": true, "db.sqlite3": true, "worker_heartbeat.txt": true}
	if err := testkit.CopyTree(filepath.Join(s.root, "testdata", "demo"), s.proj, func(n string) bool { return skip[n] }); err != nil {
		return fmt.Errorf("copying the demo project: %v", err)
	}
	s.static, s.media = filepath.Join(s.proj, "static_root"), filepath.Join(s.proj, "media_root")
	s.private, s.tmp = filepath.Join(s.proj, "private_files"), filepath.Join(s.work, "tmp")
	for _, d := range []string{s.media, s.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	s.media1 = make([]byte, 4<<20)
	_, _ = rand.Read(s.media1)
	if err := os.WriteFile(filepath.Join(s.media, "soak.bin"), s.media1, 0o644); err != nil {
		return err
	}
	var err error
	if s.privPDF, err = os.ReadFile(filepath.Join(s.private, "report.pdf")); err != nil {
		return err
	}
	s.crashFlag = filepath.Join(s.work, "crash-now")
	if err := os.WriteFile(filepath.Join(s.work, "crashloop.py"), []byte(crashLoopScript), 0o644); err != nil {
		return err
	}
	env := os.Environ()
	for k, v := range map[string]string{
		"DJANGO_SETTINGS_MODULE":  "demo.settings",
		"DJANGO_STATIC_ROOT":      s.static,
		"DJANGO_MEDIA_ROOT":       s.media,
		"DJANGO_PRIVATE_ROOT":     s.private,
		"DJANGO_DB_PATH":          filepath.Join(s.proj, "db.sqlite3"),
		"DJANGO_HEARTBEAT_FILE":   filepath.Join(s.proj, "worker_heartbeat.txt"),
		"PYTHONDONTWRITEBYTECODE": "1",
		"TMPDIR":                  s.tmp, // generation sockets' dirs, body buffers: counted here
		"XDG_DATA_HOME":           filepath.Join(s.work, "xdg", "data"),
		"XDG_CONFIG_HOME":         filepath.Join(s.work, "xdg", "config"),
	} {
		env = testkit.SetEnv(env, k, v)
	}
	s.env = env
	for _, p := range []*int{&s.admin, &s.gport, &s.uport, &s.gbind, &s.ubind} {
		if *p, err = testkit.FreePort(); err != nil {
			return err
		}
	}
	s.workers, s.rev = 2, 0
	s.cfPath = filepath.Join(s.work, "Caddyfile")
	return os.WriteFile(s.cfPath, []byte(s.caddyfile(2, 0)), 0o644)
}

// crashLoopScript is the `crashloop` process: it runs until the flag file
// (its argument) exists, then exits 1 half a second later, again after
// each restart, for as long as the flag is there.
const crashLoopScript = `import os, signal, sys, time
flag = sys.argv[1]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
time.sleep(1.5)
while True:
    if os.path.exists(flag):
        print("crashloop: the flag is set, crashing", flush=True)
        sys.exit(1)
    time.sleep(0.5)
`

func (s *soak) caddyfile(workers, rev int) string {
	site := func(port int, app string) string {
		return fmt.Sprintf(`:%d {
	header X-Soak-Rev %d
	django_files {
		%s
		protected %s
	}
}
`, port, rev, app, s.private)
	}
	return fmt.Sprintf(`{
	admin 127.0.0.1:%d
	servers {
		listener_wrappers {
			django_handoff
			tls
			django_handoff
		}
	}
	django {
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		release %s manage.py migrate --noinput
		release %s manage.py collectstatic --noinput
		gunicorn demo.wsgi:application {
			command /usr/bin/gunicorn
			bind 127.0.0.1:%d
			workers %d
		}
		uvicorn demo.asgi:application {
			name asgi
			command %s -m uvicorn
			bind 127.0.0.1:%d
		}
		process worker %s manage.py worker --interval 5
		process crashloop %s %s %s {
			backoff 200ms
			backoff_max 2s
		}
		schedule tick "@every 1m" %s manage.py check
	}
}

`, s.admin, s.proj, python, python, s.gbind, workers, python, s.ubind, python, python,
		filepath.Join(s.work, "crashloop.py"), s.crashFlag, python) +
		site(s.gport, "") + "\n" + site(s.uport, "app asgi")
}

func (s *soak) startCaddy() error {
	s.caddyLog = filepath.Join(s.work, "caddy.log")
	f, err := os.Create(s.caddyLog)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.caddyBin, "run", "--config", s.cfPath, "--adapter", "caddyfile")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = s.proj, s.env, f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	s.caddy, s.done = cmd, make(chan struct{})
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(waited) }()
	s.caddyExited = waited
	logf("caddy pid %d: admin :%d, gunicorn site :%d, uvicorn site :%d (log %s)", cmd.Process.Pid, s.admin, s.gport, s.uport, s.caddyLog)
	deadline := time.Now().Add(180 * time.Second)
	for time.Now().Before(deadline) {
		st, err := s.statuses()
		if err == nil && st["gunicorn"].State == "RUNNING" && st["asgi"].State == "RUNNING" && st["worker"].State == "RUNNING" && st["crashloop"].State == "RUNNING" {
			if get(fmt.Sprintf("http://127.0.0.1:%d/hello/", s.gport)) == nil && get(fmt.Sprintf("http://127.0.0.1:%d/hello/", s.uport)) == nil {
				return nil
			}
		}
		select {
		case <-waited:
			return fmt.Errorf("caddy exited during its start (see %s)", s.caddyLog)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the app servers were not RUNNING after 180 s (see %s)", s.caddyLog)
}

func get(url string) error {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// stopCaddy sends Caddy SIGTERM and waits for it; it returns what is left
// behind: processes of its group or below it, generation directories.
func (s *soak) stopCaddy() (left []string) {
	if s.caddy == nil || s.caddy.Process == nil {
		return nil
	}
	pid := s.caddy.Process.Pid
	kids := testkit.Descendants(pid)
	_ = s.caddy.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.caddyExited:
	case <-time.After(90 * time.Second):
		left = append(left, "caddy did not exit within 90 s of SIGTERM")
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-s.caddyExited
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range kids {
		for testkit.Alive(k) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if testkit.Alive(k) {
			comm, _, _ := testkit.Stat(k)
			left = append(left, fmt.Sprintf("process %d (%s) outlived Caddy", k, comm))
			_ = syscall.Kill(k, syscall.SIGKILL)
		}
	}
	if d, _ := genDirs(s.tmp); d > 0 {
		left = append(left, fmt.Sprintf("%d generation directories left in TMPDIR", d))
	}
	s.caddy = nil
	return left
}

type procStatus struct {
	Name     string  `json:"name"`
	State    string  `json:"state"`
	PID      int     `json:"pid"`
	Restarts int     `json:"restarts"`
	LastExit string  `json:"last_exit"`
	Uptime   float64 `json:"uptime_seconds"`
}

func (s *soak) statuses() (map[string]procStatus, error) {
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/django/processes", s.admin))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list []procStatus
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	out := map[string]procStatus{}
	for _, p := range list {
		out[p.Name] = p
	}
	return out, nil
}

func cmdOut(argv ...string) string {
	out, _ := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	return string(out)
}

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// findRoot is the first directory up from the working directory that has
// testdata/demo (the repository root, from bench/ or bench/soak/).
func findRoot() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "testdata", "demo", "manage.py")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}
