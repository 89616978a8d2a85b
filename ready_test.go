package caddydjango

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `ready` checks and `before_release` processes: unit tests of the checks
// and the syntax, and end-to-end boots through a real Caddy.

func TestReadyChecks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock := filepath.Join(t.TempDir(), "s.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for _, tc := range []struct {
		kind, target string
		ready        bool
	}{
		{"tcp", ln.Addr().String(), true},
		{"tcp", closed, false},
		{"unix", sock, true},
		{"unix", sock + ".missing", false},
		{"http", ok.URL + "/health", true}, // any answer below 500
		{"http", bad.URL, false},
	} {
		err := checkReadyOnce(t.Context(), tc.kind, tc.target)
		if (err == nil) != tc.ready {
			t.Errorf("ready %s %s: %v, want ready=%v", tc.kind, tc.target, err, tc.ready)
		}
	}
}

func TestCaddyfileReadyAndBeforeRelease(t *testing.T) {
	got, err := adaptDjango(t, `{
	django {
		process postgres /usr/lib/postgresql/15/bin/postgres -D /data/pg {
			before_release
			ready tcp 127.0.0.1:5432
			user postgres
		}
	}
}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got["processes"])
	want := `[{"before_release":true,"command":["/usr/lib/postgresql/15/bin/postgres","-D","/data/pg"],"name":"postgres","ready":"tcp 127.0.0.1:5432","user":"postgres"}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"unknown ready kind", "{\n\tdjango {\n\t\tprocess db ./db {\n\t\t\tready udp 127.0.0.1:53\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown ready kind "udp"`},
		{"bad tcp address", "{\n\tdjango {\n\t\tprocess db ./db {\n\t\t\tready tcp localhost\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: ready tcp "localhost": want HOST:PORT`},
		{"bad url", "{\n\tdjango {\n\t\tprocess db ./db {\n\t\t\tready http localhost:9200\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: ready http "localhost:9200": want a URL`},
		{"before_release on gunicorn", "{\n\tdjango {\n\t\tgunicorn a.wsgi {\n\t\t\tbefore_release\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: before_release is for processes, not gunicorn`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptDjango(t, tc.in)
			wantAdaptError(t, err, tc.want)
		})
	}
}

// listenAfter is a program that listens on port after delay and accepts
// connections until it is stopped.
func listenAfter(port int, delay string) string {
	return fmt.Sprintf(`/usr/bin/python3 -c "import socket,time; time.sleep(%s); s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', %d)); s.listen(16); [s.accept()[0].close() for _ in iter(int, 1)]"`, delay, port)
}

// connectOrFail is a release command that fails unless port accepts.
func connectOrFail(port int) string {
	return fmt.Sprintf(`/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', %d), 1).close(); print('db reachable')"`, port)
}

func TestBeforeReleaseProcessIsReadyBeforeReleases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	c := startWithDjango(t, dir, `
		release `+connectOrFail(port)+`
		process db `+listenAfter(port, "2")+` {
			before_release
			ready tcp 127.0.0.1:`+fmt.Sprint(port)+`
		}
		process web /bin/sleep 600 {
			priority 1
		}`)
	c.waitState("web", StateRunning, 60*time.Second)
	if db := c.statuses()["db"]; db.State != StateRunning {
		t.Errorf("db: %+v", db)
	}
	c.waitLog(10*time.Second, "the release's output", msgIs("db reachable"))
	running := c.waitLog(10*time.Second, "db RUNNING", msgIs("process running", isProcess("db")))
	release := c.waitLog(10*time.Second, "release started", msgIs("running release command"))
	webStart := c.waitLog(10*time.Second, "web started", msgIs("process started", isProcess("web")))
	if !(running["ts"].(float64) <= release["ts"].(float64) && release["ts"].(float64) <= webStart["ts"].(float64)) {
		t.Errorf("order: db running at %v, release at %v, web started at %v", running["ts"], release["ts"], webStart["ts"])
	}
}

func TestBeforeReleaseNeverReadyFailsTheBoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	c := startWithDjango(t, dir, `
		release_timeout 3s
		release /bin/sh -c "touch `+filepath.Join(dir, "released")+`"
		process db /bin/sleep 600 {
			before_release
			ready tcp 127.0.0.1:`+fmt.Sprint(port)+`
		}
		process web /bin/sleep 600`)
	st := c.waitState("web", StateFatal, 30*time.Second)
	if !strings.Contains(st.LastError, "before_release process db did not get ready") {
		t.Errorf("web: last_error %q", st.LastError)
	}
	if db := c.waitState("db", StateFatal, 10*time.Second); !strings.Contains(db.LastError, "did not get ready") {
		t.Errorf("db: %+v", db)
	}
	if es := c.entries(msgIs("running release command")); len(es) > 0 {
		t.Error("the release command ran")
	}
	if es := c.entries(msgIs("process started", isProcess("web"))); len(es) > 0 {
		t.Error("web was started")
	}
}
