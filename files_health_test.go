package caddydjango

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// getHealth fetches a health endpoint and decodes its body.
func getHealth(t *testing.T, url string) (*http.Response, healthBody) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body healthBody
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v\n%s", url, resp.StatusCode, err, raw)
	}
	return resp, body
}

// TestHealthEndpoint: django_files' `health /healthz` through a real Caddy
// and a real Gunicorn whose Django accepts only another Host: Caddy answers
// 200 with the processes while Gunicorn is RUNNING, 503 naming it once it
// is stopped; never cached, never in the access log (requests to Django
// are).
func TestHealthEndpoint(t *testing.T) {
	t.Parallel()
	d := newDjangoProject(t)
	d.Env = append(d.Env, "DJANGO_ALLOWED_HOSTS=www.example.com")
	s := launchDjangoSite(t, d, func(s *djangoSite, admin string) string {
		return s.config(admin, 1, "", "process job /bin/sleep 1000", "log\n\tdjango_files {\n\t\thealth /healthz\n\t}")
	})
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	s.waitState("job", StateRunning, 30*time.Second)

	// Django rejects this Host (127.0.0.1:port) ...
	if code, body := httpGet(s.url("/hello/")); code != http.StatusBadRequest {
		t.Fatalf("/hello/ with a Host Django does not allow: %d %q; want 400 from Django", code, body)
	}
	// ... Caddy answers the health check itself
	resp, body := getHealth(t, s.url("/healthz"))
	want := []healthProcess{{gunicornName, StateRunning}, {"job", StateRunning}}
	if resp.StatusCode != http.StatusOK || body.Status != "ok" || !slices.Equal(body.Processes, want) || len(body.Problems) != 0 {
		t.Errorf("healthy: %d %+v; want 200 with %v", resp.StatusCode, body, want)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}

	if code, out := s.post("/django/processes/gunicorn/stop"); code != http.StatusOK {
		t.Fatalf("stop gunicorn: %d %s", code, out)
	}
	resp, body = getHealth(t, s.url("/healthz"))
	if resp.StatusCode != http.StatusServiceUnavailable || body.Status != "unavailable" ||
		!slices.Equal(body.Problems, []string{"gunicorn is STOPPED, not RUNNING"}) ||
		!slices.Contains(body.Processes, healthProcess{gunicornName, StateStopped}) {
		t.Errorf("gunicorn stopped: %d %+v; want 503 naming gunicorn", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on 503, want no-store", cc)
	}

	// the access log has the Django request, no health check
	s.waitLog(10*time.Second, "the access log entry of /hello/", accessLogOf("/hello/"))
	if hits := s.entries(accessLogOf("/healthz")); len(hits) > 0 {
		t.Errorf("health checks were logged: %v", hits)
	}
}

// accessLogOf matches Caddy's access log entries of requests to uri.
func accessLogOf(uri string) func(logEntry) bool {
	return func(e logEntry) bool {
		r, _ := e["request"].(map[string]any)
		return strings.HasPrefix(e.str("logger"), "http.log.access") && r != nil && r["uri"] == uri
	}
}

// TestRequestStartHeader: proxied requests carry X-Request-Start with the
// time Caddy received them (a client's own value is replaced), unless
// request_start is off.
func TestRequestStartHeader(t *testing.T) {
	t.Parallel()
	s := launchDjangoSite(t, newDjangoProject(t), func(s *djangoSite, admin string) string {
		return s.config(admin, 1, "", "", `route /off/* {
		uri strip_prefix /off
		django_files {
			request_start off
		}
	}
	django_files`)
	})
	s.waitState(gunicornName, StateRunning, 60*time.Second)

	headers := func(path, sent string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.url(path), nil)
		if sent != "" {
			req.Header.Set("X-Request-Start", sent)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return got
	}
	for _, sent := range []string{"", "t=1"} {
		before := time.Now().UnixMicro()
		got := headers("/headers/", sent)
		after := time.Now().UnixMicro()
		v, _ := got["x_request_start"].(string)
		us, err := strconv.ParseInt(strings.TrimPrefix(v, "t="), 10, 64)
		if !strings.HasPrefix(v, "t=") || err != nil || us < before || us > after {
			t.Errorf("client sent %q: Django got X-Request-Start %q; want t=<microseconds> between %d and %d", sent, v, before, after)
		}
	}
	if got := headers("/off/headers/", "t=1"); got["x_request_start"] != nil {
		t.Errorf("request_start off: Django got X-Request-Start %v from an untrusted client; want none", got["x_request_start"])
	}
}
