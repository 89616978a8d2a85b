package caddydjango

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestParseBind: Gunicorn's bind syntax becomes one address that names the
// held socket and the upstream Caddy dials; bad addresses get the error a
// user reads in `caddy adapt`.
func TestParseBind(t *testing.T) {
	ok := []struct {
		in, str, upstream string
	}{
		{"", "tcp:127.0.0.1:8000", "127.0.0.1:8000"},
		{"0.0.0.0:9000", "tcp:0.0.0.0:9000", "0.0.0.0:9000"},
		{"tcp://127.0.0.1:8001", "tcp:127.0.0.1:8001", "127.0.0.1:8001"},
		{"[::1]:8000", "tcp:[::1]:8000", "[::1]:8000"},
		{"unix:/run/app.sock", "unix:/run/app.sock", "unix//run/app.sock"},
		{"unix:///run/app.sock", "unix:/run/app.sock", "unix//run/app.sock"},
	}
	for _, c := range ok {
		b, err := parseBind(c.in)
		if err != nil {
			t.Errorf("parseBind(%q): %v", c.in, err)
			continue
		}
		if b.String() != c.str || b.upstream() != c.upstream {
			t.Errorf("parseBind(%q) = %s, upstream %s; want %s, upstream %s", c.in, b, b.upstream(), c.str, c.upstream)
		}
	}

	bad := []struct{ in, want string }{
		{"localhost", `bind "localhost": want HOST:PORT or unix:PATH`},
		{"127.0.0.1:0", `bind "127.0.0.1:0": port 0 would give the app server a random port`},
		{"127.0.0.1:http", `bind "127.0.0.1:http": port "http" is not a number from 0 to 65535`},
		{"127.0.0.1:65536", `port "65536" is not a number`},
		{"unix:", `bind "unix:": missing socket path after unix:`},
	}
	for _, c := range bad {
		_, err := parseBind(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseBind(%q) error = %v, want %q", c.in, err, c.want)
		}
	}
}

// TestBindResolve: a relative socket path is relative to the app's root;
// absolute paths and TCP addresses are left alone.
func TestBindResolve(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"unix:run/app.sock", "unix:/app/run/app.sock"},
		{"unix:/run/app.sock", "unix:/run/app.sock"},
		{"127.0.0.1:8000", "tcp:127.0.0.1:8000"},
	} {
		b, err := parseBind(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.resolve("/app").String(); got != c.want {
			t.Errorf("%q resolved in /app = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestBindInSpecKey: a process definition's JSON (its key across reloads)
// carries the bind as one string, and a process without one has none.
func TestBindInSpecKey(t *testing.T) {
	b, _ := parseBind("unix:/run/app.sock")
	g, _ := json.Marshal(&spec{Name: "gunicorn", Bind: b})
	if !strings.Contains(string(g), `"bind":"unix:/run/app.sock"`) {
		t.Errorf("gunicorn spec JSON %s lacks its bind", g)
	}
	w, _ := json.Marshal(&spec{Name: "worker"})
	if strings.Contains(string(w), `"bind"`) {
		t.Errorf("worker spec JSON %s has a bind", w)
	}
	if (&spec{Name: "worker"}).appServer() || !(&spec{Bind: b}).appServer() {
		t.Error("gunicorn() must tell a spec with a bind")
	}
}
