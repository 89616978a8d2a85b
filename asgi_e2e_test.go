package caddydjango

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
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
			ws, err := testkit.DialWebsocket(addr, "/ws/echo/", 30*time.Second)
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			defer ws.Close()
			for _, msg := range []string{"hello", "again"} {
				if err := ws.Echo(msg, 30*time.Second); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
