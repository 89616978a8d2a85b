package caddydjango

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
	"github.com/caddyserver/caddy/v2"
)

// TestHostileJSONConfigIsRejected feeds malformed JSON configs to
// caddy.Validate (what `caddy validate` and POST /load do before anything
// starts): each is rejected with words a user understands.
func TestHostileJSONConfigIsRejected(t *testing.T) {
	for _, tc := range []struct {
		name, django, want string
	}{
		{"unknown key", `{"processes":[{"name":"w","command":["/bin/true"],"autorestrt":"never"}]}`, `unknown field "autorestrt"`},
		{"unknown top-level key", `{"gunicron":{}}`, `unknown field "gunicron"`},
		{"missing command", `{"processes":[{"name":"w"}]}`, `process "w": missing command`},
		{"empty command", `{"processes":[{"name":"w","command":[""]}]}`, `missing command`},
		{"duplicate names", `{"processes":[{"name":"w","command":["a"]},{"name":"w","command":["b"]}]}`, `process "w" is defined twice`},
		{"replica name clash", `{"processes":[{"name":"w-1","command":["a"]},{"name":"w","command":["b"],"replicas":2}]}`, `process "w-1" is defined twice`},
		{"bad name", `{"processes":[{"name":"../x","command":["a"]}]}`, `name "../x": use letters, digits`},
		{"bad signal", `{"processes":[{"name":"w","command":["a"],"stop_signal":"SIGNOPE"}]}`, `unknown signal "SIGNOPE"`},
		{"bad autorestart", `{"processes":[{"name":"w","command":["a"],"autorestart":"maybe"}]}`, `autorestart "maybe": want always, unexpected or never`},
		{"negative retries", `{"processes":[{"name":"w","command":["a"],"startretries":-1}]}`, `startretries must not be negative`},
		{"negative duration", `{"processes":[{"name":"w","command":["a"],"stop_timeout":-5}]}`, `durations must not be negative`},
		{"bad duration", `{"processes":[{"name":"w","command":["a"],"stop_timeout":"soon"}]}`, `soon`},
		{"negative replicas", `{"processes":[{"name":"w","command":["a"],"replicas":-3}]}`, `count -3 must not be negative`},
		{"gunicorn without app", `{"gunicorn":{"bind":"127.0.0.1:8000"}}`, `missing WSGI application`},
		{"gunicorn bind in args", `{"gunicorn":{"app":"a.wsgi","args":["--bind","0.0.0.0:80"]}}`, `args must not contain --bind: set ` + "`bind`"},
		{"gunicorn bad port", `{"gunicorn":{"app":"a.wsgi","bind":"127.0.0.1:99999"}}`, `port "99999" is not a number from 0 to 65535`},
		{"gunicorn replicas", `{"gunicorn":{"app":"a.wsgi","replicas":2}}`, `replicas is not supported for gunicorn`},
		{"empty release", `{"release":[[]]}`, `release[0]: empty command`},
		{"missing env_file", `{"env_file":"/nonexistent/.env"}`, `env_file: open /nonexistent/.env: no such file or directory`},
		// before, these failed only as each process started ("exec:
		// environment variable contains NUL"), again at every restart
		{"NUL in an env value", `{"env":{"SECRET":"a\u0000b"}}`, `env SECRET: a NUL byte in its value`},
		{"NUL in a process's env", `{"processes":[{"name":"w","command":["a"],"env":{"A":"\u0000"}}]}`, `env A: a NUL byte in its value`},
		{"= in an env name", `{"env":{"A=B":"c"}}`, `env "A=B": not a valid variable name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fmt.Sprintf(`{"admin":{"disabled":true},"apps":{"django":%s}}`, tc.django)
			var c caddy.Config
			if err := json.Unmarshal([]byte(cfg), &c); err != nil {
				t.Fatal(err)
			}
			err := caddy.Validate(&c)
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestBadEnvFileLineIsNamed(t *testing.T) {
	path := t.TempDir() + "/.env"
	mustWrite(t, path, "GOOD=1\nthis line is wrong\n")
	var c caddy.Config
	_ = json.Unmarshal([]byte(fmt.Sprintf(`{"admin":{"disabled":true},"apps":{"django":{"env_file":%q}}}`, path)), &c)
	err := caddy.Validate(&c)
	if err == nil || !strings.Contains(err.Error(), path+":2: want KEY=VALUE") {
		t.Fatalf("error = %v", err)
	}
}

// TestCrashLoopStaysCheap: a program that exits at once, with many retries,
// is restarted with capped backoff; Caddy's CPU stays low meanwhile.
func TestCrashLoopStaysCheap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := startWithDjango(t, dir, `
		process crash /bin/false {
			startretries 1000
			backoff 100ms
			backoff_max 800ms
		}`)
	cpu := func() float64 {
		_, f, ok := testkit.Stat(c.cmd.Process.Pid)
		if !ok || len(f) < 13 {
			t.Fatal("cannot read caddy's CPU time")
		}
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		return float64(ut+st) / 100 // clock ticks
	}
	waitFor(t, 10*time.Second, func() bool { return c.statuses()["crash"].Restarts >= 3 }, "a few restarts")
	begin, cpu0 := time.Now(), cpu()
	waitFor(t, 20*time.Second, func() bool { return time.Since(begin) > 4*time.Second }, "4 s of crash loop")
	used := cpu() - cpu0
	starts := len(c.entries(msgIs("process started", isProcess("crash"))))
	t.Logf("crash loop: %d starts, caddy used %.2fs CPU in 4s", starts, used)
	if used > 0.5 {
		t.Errorf("crash loop used %.2fs of CPU in 4s", used)
	}
	// capped: after 100,200,400,800,800... ms at most ~12 starts in ~6 s
	if starts > 15 {
		t.Errorf("%d starts: backoff not applied", starts)
	}
	if st := c.statuses()["crash"]; st.State != StateBackoff && st.State != StateStarting {
		t.Errorf("state %s", st.State)
	}
}
