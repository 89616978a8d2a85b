package caddydjango

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
)

// wsEchoServer is a websocket echo server on Debian's python3-websockets.
const wsEchoServer = `import asyncio, sys, websockets

async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)

async def main():
    async with websockets.serve(echo, "127.0.0.1", int(sys.argv[1])):
        await asyncio.Future()

asyncio.run(main())
`

// TestWebsocketSurvivesReloads: a websocket open through django_files keeps
// echoing across 3 config reloads that do not replace its app server (Caddy's
// reverse_proxy closes upgraded streams when the config that proxied them is
// unloaded, unless stream_close_delay is set).
func TestWebsocketSurvivesReloads(t *testing.T) {
	t.Parallel()
	if out, err := exec.Command(systemPython, "-c", "import websockets").CombinedOutput(); err != nil {
		t.Skipf("python3-websockets is not installed: %v %s", err, out)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "ws_echo.py")
	mustWrite(t, script, wsEchoServer)
	wsPort, port := freePort(t), freePort(t)
	var admin string
	config := func(rev int) string {
		django := fmt.Sprintf("\t\troot %s\n\t\tprocess ws %s %s %d", dir, systemPython, script, wsPort)
		if rev > 3 { // a changed command: the app server is replaced
			django += " replaced"
		}
		return withGlobal(globalBlock(admin, django), handoffLine(port)) +
			fmt.Sprintf("\n:%d {\n\theader X-Rev %d\n\tdjango_files {\n\t\tupstream 127.0.0.1:%d\n\t}\n}\n", port, rev, wsPort)
	}
	c := startCaddy(t, dir, func(a string) string { admin = a; return config(0) })
	c.waitState("ws", StateRunning, 30*time.Second)
	pid := c.statuses()["ws"].PID

	var ws *testkit.WS
	waitFor(t, 30*time.Second, func() bool {
		var err error
		ws, err = testkit.DialWebsocket(fmt.Sprintf("127.0.0.1:%d", port), "/echo", 10*time.Second)
		return err == nil
	}, "a websocket through django_files")
	defer ws.Close()
	wsEcho(t, ws, "before any reload")
	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for rev := 1; rev <= 3; rev++ {
		if err := c.reload(config(rev)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, func() bool { return revSeen(probe, fmt.Sprintf("http://127.0.0.1:%d/", port), rev) }, "the new config")
		wsEcho(t, ws, fmt.Sprintf("after reload %d", rev))
	}
	if now := c.statuses()["ws"].PID; now != pid {
		t.Fatalf("the websocket server was replaced (%d -> %d): the test needs reloads that keep it", pid, now)
	}

	// A reload that replaces the app server ends the stream as the old
	// server exits.
	if err := c.reload(config(4)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.Copy(io.Discard, ws.R); err != nil {
		t.Fatalf("websocket after its server was replaced: %v (want it closed)", err)
	}
}

// wsEcho fails the test unless msg comes back on ws.
func wsEcho(t *testing.T, ws *testkit.WS, msg string) {
	t.Helper()
	if err := ws.Echo(msg, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
