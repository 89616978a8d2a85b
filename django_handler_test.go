package caddydjango

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// Tests of provisioning the django_files handler.

// TestHandlerProvisionErrors: configurations that adapt but cannot work are
// refused when loaded, in plain words.
func TestHandlerProvisionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, handler, want string }{
		{"no upstream", `{"handler":"django_files"}`, "no upstream: set `upstream` or configure an app server (gunicorn, uvicorn, …) in the django app"},
		{"protected inside media", `{"handler":"django_files","upstream":"127.0.0.1:9","media":{"root":` + jsonString(dir) + `},"protected":{"root":` + jsonString(filepath.Join(dir, "private")) + `}}`, "overlaps the media root"},
		{"protected is static", `{"handler":"django_files","upstream":"127.0.0.1:9","static":{"root":` + jsonString(dir) + `},"protected":{"root":` + jsonString(dir) + `}}`, "overlaps the static root"},
		{"same prefix", `{"handler":"django_files","upstream":"127.0.0.1:9","static":{"url":"/files/"},"media":{"url":"/files"}}`, "static and media use the same URL prefix /files/"},
		{"bad trusted proxy", `{"handler":"django_files","upstream":"127.0.0.1:9","trusted_proxies":["10.0.0.0/33"]}`, `trusted_proxies: "10.0.0.0/33" is not an IP range`},
		{"negative cache size", `{"handler":"django_files","upstream":"127.0.0.1:9","static":{"cache_size":-2}}`, "cache sizes must not be negative"},
		{"brotli in JSON", `{"handler":"django_files","upstream":"127.0.0.1:9","static":{"compress":["br"]}}`, "brotli cannot be created"},
		{"protected without root", `{"handler":"django_files","upstream":"127.0.0.1:9","protected":{}}`, "protected: root is required"},
		{"health without the django app", `{"handler":"django_files","upstream":"127.0.0.1:9","health":"/healthz"}`, "health /healthz needs the django app"},
		{"health not a path", `{"handler":"django_files","upstream":"127.0.0.1:9","health":"healthz"}`, `health: "healthz" is not a URL path`},
		{"root_files without root", `{"handler":"django_files","upstream":"127.0.0.1:9","root_files":{}}`, "root_files: root is required"},
		{"protected inside root_files", `{"handler":"django_files","upstream":"127.0.0.1:9","root_files":{"root":` + jsonString(dir) + `},"protected":{"root":` + jsonString(filepath.Join(dir, "private")) + `}}`, "overlaps the root_files root"},
		{"root_files inside media", `{"handler":"django_files","upstream":"127.0.0.1:9","media":{"root":` + jsonString(dir) + `},"root_files":{"root":` + jsonString(filepath.Join(dir, "public")) + `}}`, "overlaps the media root"},
		{"root_files is media's parent", `{"handler":"django_files","upstream":"127.0.0.1:9","media":{"root":` + jsonString(filepath.Join(dir, "media")) + `},"root_files":{"root":` + jsonString(dir) + `}}`, "overlaps the media root"},
		{"hide absolute in JSON", `{"handler":"django_files","upstream":"127.0.0.1:9","media":{"hide":["/srv/media/invoices"]}}`, `media: hide "/srv/media/invoices": write the path relative to the media root`},
		{"bad disposition in JSON", `{"handler":"django_files","upstream":"127.0.0.1:9","media":{"disposition":"inline"}}`, `media: disposition "inline": want attachment or auto`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg caddy.Config
			raw := `{"admin":{"disabled":true},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[` + tc.handler + `]}]}}}}}`
			if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
				t.Fatal(err)
			}
			err := caddy.Validate(&cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
