package caddydjango

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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

	var ws *wsConn
	waitFor(t, 30*time.Second, func() bool {
		var err error
		ws, err = dialWebsocket(fmt.Sprintf("127.0.0.1:%d", port), "/echo")
		return err == nil
	}, "a websocket through django_files")
	defer ws.Close()
	ws.echo(t, "before any reload")
	probe := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for rev := 1; rev <= 3; rev++ {
		if err := c.reload(config(rev)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, func() bool { return revSeen(probe, fmt.Sprintf("http://127.0.0.1:%d/", port), rev) }, "the new config")
		ws.echo(t, fmt.Sprintf("after reload %d", rev))
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
	if _, err := io.Copy(io.Discard, ws.r); err != nil {
		t.Fatalf("websocket after its server was replaced: %v (want it closed)", err)
	}
}

// wsConn is a minimal RFC 6455 client: text frames, masked, no
// fragmentation; enough to see a websocket stay open.
type wsConn struct {
	net.Conn
	r *bufio.Reader
}

func dialWebsocket(addr, path string) (*wsConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	k := base64.StdEncoding.EncodeToString(key)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr, k)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("handshake: %s %v", resp.Status, resp.Header)
	}
	return &wsConn{Conn: conn, r: r}, nil
}

// echo sends msg and fails the test unless the same text comes back.
func (ws *wsConn) echo(t *testing.T, msg string) {
	t.Helper()
	_ = ws.SetDeadline(time.Now().Add(10 * time.Second))
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(msg))}
	frame = append(frame, mask[:]...)
	for i := range len(msg) {
		frame = append(frame, msg[i]^mask[i%4])
	}
	if _, err := ws.Write(frame); err != nil {
		t.Fatalf("websocket write (%s): %v", msg, err)
	}
	var head [2]byte
	if _, err := io.ReadFull(ws.r, head[:]); err != nil {
		t.Fatalf("websocket closed (%s): %v", msg, err)
	}
	n := int(head[1] & 0x7f)
	if n == 126 {
		var ext [2]byte
		_, _ = io.ReadFull(ws.r, ext[:])
		n = int(binary.BigEndian.Uint16(ext[:]))
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(ws.r, payload); err != nil {
		t.Fatalf("websocket closed (%s): %v", msg, err)
	}
	if head[0]&0x0f == 0x8 {
		t.Fatalf("websocket closed by the server (%s): close frame %x", msg, payload)
	}
	if string(payload) != msg {
		t.Fatalf("websocket echoed %q, want %q", payload, msg)
	}
}
