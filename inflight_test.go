package caddydjango

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestRequestGate(t *testing.T) {
	var released atomic.Int32
	release := func() { released.Add(1) }

	var idle requestGate
	idle.close(release)
	if released.Load() != 1 {
		t.Fatal("closing a gate with no request in flight did not release")
	}

	released.Store(0)
	var g requestGate
	g.enter()
	g.enter()
	g.close(release)
	if released.Load() != 0 {
		t.Fatal("released while 2 requests were in flight")
	}
	g.leave()
	if released.Load() != 0 {
		t.Fatal("released while 1 request was in flight")
	}
	g.leave()
	if released.Load() != 1 {
		t.Fatalf("released %d times after the last request left, want 1", released.Load())
	}

	released.Store(0)
	var nilGate *requestGate
	nilGate.close(release)
	if released.Load() != 1 {
		t.Fatal("a nil gate (never provisioned) did not release")
	}
}

// slowAccelServer answers every GET after argv[2] seconds with an empty
// body and X-Accel-Redirect to argv[3].
const slowAccelServer = `import http.server, sys, time

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(sys.argv[2]))
        self.send_response(200)
        self.send_header("X-Accel-Redirect", sys.argv[3])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
`

// TestProtectedAnswerAcrossReload: a request whose answer (X-Accel-Redirect
// to a protected file) arrives after a config reload still gets the file.
// Caddy cleans the old config's handlers up without waiting for their
// requests; django_files closed its protected root then, and the file was
// looked up in a closed directory: a 404 (bench/soak found 3 in 30 minutes).
func TestProtectedAnswerAcrossReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	private := filepath.Join(dir, "private")
	mustWrite(t, filepath.Join(private, "report.txt"), "the protected report\n")
	script := filepath.Join(dir, "slow_accel.py")
	mustWrite(t, script, slowAccelServer)
	upPort, port := freePort(t), freePort(t)
	var admin string
	config := func(rev int) string {
		django := fmt.Sprintf("\t\troot %s\n\t\tprocess accel %s %s %d 2 /protected/report.txt", dir, systemPython, script, upPort)
		return withGlobal(globalBlock(admin, django), handoffLine(port)) +
			fmt.Sprintf("\n:%d {\n\theader X-Rev %d\n\tdjango_files {\n\t\tupstream 127.0.0.1:%d\n\t\tprotected %s\n\t}\n}\n", port, rev, upPort, private)
	}
	c := startCaddy(t, dir, func(a string) string { admin = a; return config(0) })
	c.waitState("accel", StateRunning, 30*time.Second)
	url := fmt.Sprintf("http://127.0.0.1:%d/report", port)
	client := &http.Client{Timeout: 30 * time.Second}
	get := func() (int, string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	waitFor(t, 30*time.Second, func() bool { code, _, err := get(); return err == nil && code == 200 }, "the protected file through the slow upstream")

	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, body, err := get()
		done <- result{code, body, err}
	}()
	time.Sleep(500 * time.Millisecond) // the request waits for the upstream's answer (2 s)
	if err := c.reload(config(1)); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		t.Fatalf("the request ended before the reload was done (%d %q %v): the upstream is not slow enough for this test", r.code, r.body, r.err)
	default:
	}
	r := <-done
	if r.err != nil || r.code != 200 || r.body != "the protected report\n" {
		t.Fatalf("a protected file named by an answer that arrived after a reload: %d %q %v, want 200 and the file", r.code, r.body, r.err)
	}
	if _, err := os.Stat(private); err != nil {
		t.Fatal(err)
	}
}
