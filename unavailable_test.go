package caddydjango

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFilesUnavailableGoesToHandleErrors: when the app server cannot serve
// (here: disabled, or an upstream nobody answers), a site with
// `handle_errors` answers the 503 its own way (a maintenance page), with
// Retry-After and no-store kept; a site without it gets django_files'
// plain-text body, not Caddy's empty one. Static files (an alias from the
// project's static root) are served meanwhile.
func TestFilesUnavailableGoesToHandleErrors(t *testing.T) {
	tester := newFilesTester(t)
	d := newDjangoProject(t)
	t.Cleanup(func() {
		// stop the app's processes
		loadFilesConfig(t, tester, fmt.Sprintf("http://:%d {\n\trespond 204\n}\n", freePort(t)))
	})
	pages, plain, downPages, downPlain, nobody := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	loadFilesConfig(t, tester, fmt.Sprintf(`{
	django {
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			enabled false
		}
	}
}
http://:%d {
	django_files {
		static {
			alias /favicon.svg img/logo.svg
		}
	}
	handle_errors 503 {
		respond "Down for maintenance ({err.status_code})"
	}
}
http://:%d {
	django_files
}
http://:%d {
	django_files {
		upstream 127.0.0.1:%d
		wait_timeout 1s
	}
	handle_errors {
		respond "Starting up, come back soon"
	}
}
http://:%d {
	django_files {
		upstream 127.0.0.1:%d
		wait_timeout 1s
	}
}
`, d.Root, systemGunicorn, freePort(t), pages, plain, downPages, nobody, downPlain, nobody))

	for _, tc := range []struct {
		name string
		port int
		body string
	}{
		{"disabled app server, handle_errors", pages, "Down for maintenance (503)"},
		{"disabled app server, no handle_errors", plain, unavailableBody},
		{"upstream down, handle_errors", downPages, "Starting up, come back soon"},
		{"upstream down, no handle_errors", downPlain, unavailableBody},
	} {
		req, _ := http.NewRequest(http.MethodPost, site(tc.port)+"/upload/", strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || body != tc.body {
			t.Errorf("%s: %d %q, want 503 %q (after %s)", tc.name, resp.StatusCode, body, tc.body, time.Since(start))
		}
		wantHeader(t, resp.Header, "Retry-After", retryAfterSeconds)
		wantHeader(t, resp.Header, "Cache-Control", "no-store")
	}
	code, body := httpGet(site(pages) + "/favicon.svg")
	if code != 200 || !strings.Contains(body, "<svg") {
		t.Errorf("GET /favicon.svg (alias) while the app server is down: %d %.40q", code, body)
	}
}
