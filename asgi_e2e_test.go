package caddydjango

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ASGI through django_files: a websocket echo and a server-sent event
// stream pass through Caddy unbuffered, for each ASGI app server.
func TestASGIThroughDjangoFiles(t *testing.T) {
	for _, tc := range []struct{ name, entry string }{
		{"uvicorn", "uvicorn demo.asgi:application"},
		{"daphne", "daphne demo.asgi:application {\n\t\t\tcommand /usr/bin/daphne\n\t\t}"},
		{"hypercorn", "hypercorn demo.asgi:application {\n\t\t\tcommand /usr/bin/hypercorn\n\t\t}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := appServerSite(t, tc.name, tc.entry)
			addr := fmt.Sprintf("127.0.0.1:%d", s.hport)

			// the first event arrives while the stream still runs (it
			// ends 2s after it)
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(s.url("/events/"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := bufio.NewReader(resp.Body)
			first, err := r.ReadString('\n')
			if err != nil || first != "data: 0\n" {
				t.Fatalf("first event %q, %v", first, err)
			}
			got := time.Now()
			rest, _ := io.ReadAll(r)
			if !strings.Contains(string(rest), "data: 2") {
				t.Fatalf("stream rest %q", rest)
			}
			if d := time.Since(got); d < 1500*time.Millisecond {
				t.Errorf("the first event arrived only %v before the stream ended: buffered", d)
			}

			// websocket echo
			conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
			key := make([]byte, 16)
			_, _ = rand.Read(key)
			fmt.Fprintf(conn, "GET /ws/echo/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", base64.StdEncoding.EncodeToString(key))
			br := bufio.NewReader(conn)
			up, err := http.ReadResponse(br, nil)
			if err != nil || up.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("upgrade: %v %v", up, err)
			}
			for _, msg := range []string{"hello", "again"} {
				if _, err := conn.Write(wsTextFrame(msg)); err != nil {
					t.Fatal(err)
				}
				if echo, err := readWSText(br); err != nil || echo != msg {
					t.Fatalf("echo %q, %v; want %q", echo, err, msg)
				}
			}
		})
	}
}

// wsTextFrame is a masked client text frame (payload < 126 bytes).
func wsTextFrame(msg string) []byte {
	mask := []byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(msg))}
	frame = append(frame, mask...)
	for i := range len(msg) {
		frame = append(frame, msg[i]^mask[i%4])
	}
	return frame
}

// readWSText reads one unmasked server text frame (payload < 126 bytes).
func readWSText(r *bufio.Reader) (string, error) {
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil {
		return "", err
	}
	if head[0] != 0x81 || head[1]&0x80 != 0 || head[1] >= 126 {
		return "", fmt.Errorf("unexpected frame header % x", head)
	}
	body := make([]byte, head[1])
	_, err := io.ReadFull(r, body)
	return string(body), err
}
