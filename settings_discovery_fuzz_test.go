package caddydjango

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// FuzzSettingsProbeOutput feeds arbitrary probe answers (what the project's
// Python printed: its settings are the project's code, and a broken or
// surprising one must not break Caddy) to a django_files handler of a
// provisioned django app, one after another as deploys would. Property: no
// panic; an answer that is not JSON is an error; after every reading, each
// kind of file is either served from an absolute directory under a URL
// prefix that starts and ends with '/', or not served with a reason;
// static and media never share a prefix or a directory; and the manifest
// read is inside STATIC_ROOT, as Django's storage would have it.
//
// The seeds (below and testdata/fuzz/FuzzSettingsProbeOutput) run in the
// normal suite; fuzz beyond them with
//
//	go test -run '^$' -fuzz FuzzSettingsProbeOutput -fuzztime 5m .
func FuzzSettingsProbeOutput(f *testing.F) {
	for _, seed := range []string{
		`{"settings_module": "demo.settings", "django": "3.2.25", "static_url": "/static/", "static_root": "/app/static_root", "media_url": "/media/", "media_root": "/app/media", "static_storage": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage", "manifest": true, "manifest_name": "staticfiles.json", "storage_error": "", "whitenoise_root": "", "files": ["/app/demo/settings.py"]}`,
		`{"static_url": "https://cdn.example.com/static/", "static_root": "", "media_url": "/media/", "media_root": "media"}`,
		`{"static_url": "static/", "static_root": "relative", "media_url": "media", "media_root": "relative/media", "whitenoise_root": "public"}`,
		`{"static_url": "/files/", "static_root": "/srv/a", "media_url": "/files/", "media_root": "/srv/b"}`,
		`{"static_url": "/s/", "static_root": "/srv/same", "media_url": "/m/", "media_root": "/srv/same"}`,
		`{"static_url": "/s/", "static_root": "/srv/s", "manifest": true, "manifest_name": "/etc/passwd"}`,
		`{"static_url": "//cdn/", "static_root": "/", "media_url": "/../", "media_root": "/media\u0000x"}`,
		`{"static_url": "/%2e%2e/", "static_root": "{env.HOME}", "media_url": "/{http.request.uri}/", "media_root": "{$X}"}`,
		`{"error": "ModuleNotFoundError: No module named 'config'", "files": []}`,
		`{"static_url": 5}`, `null`, `[]`, `{}`, `{"static_url": "/s/", "static_root": "/s", "media_url": "/s/m/", "media_root": "/s/m"}`,
	} {
		f.Add([]byte(seed))
	}
	base := f.TempDir()
	h := settingsFuzzHandler(f, base)
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := decodeProbeOutput(data)
		if err != nil {
			return // "unreadable answer from python: …": the previous reading stays
		}
		st := &SettingsStatus{Python: "python", Dir: base}
		st.take(out)
		if err := endsWithin(t, "applying the settings", func() error { h.applySettings(st); return nil }); err != nil {
			t.Fatal(err)
		}
		r := h.sites.report.Load()
		for _, p := range []*FilesPaths{r.Static, r.Media, r.RootFiles} {
			if p == nil {
				continue
			}
			if !p.Served {
				if p.Reason == "" {
					t.Fatalf("%s: not served without a reason: %+v", data, p)
				}
				continue
			}
			if !strings.HasPrefix(p.URL, "/") || !strings.HasSuffix(p.URL, "/") || !filepath.IsAbs(p.Dir) || filepath.Clean(p.Dir) != p.Dir {
				t.Fatalf("%s: served as %+v", data, p)
			}
		}
		if r.Static.Served && r.Media.Served && (r.Static.URL == r.Media.URL || r.Static.Dir == r.Media.Dir) {
			t.Fatalf("%s: static %+v and media %+v collide", data, r.Static, r.Media)
		}
		if m := r.Static.Manifest; m != "" && (!r.Static.Served || !within(m, r.Static.Dir) || m == r.Static.Dir) {
			t.Fatalf("%s: manifest %s is not inside STATIC_ROOT %s", data, m, r.Static.Dir)
		}
		sites := h.sites.live.Load()
		if sites == nil {
			t.Fatalf("%s: no sites in effect after a reading", data)
		}
		if s := sites.static; s != nil && s.manifest.path != "" && !within(s.manifest.path, s.dir) {
			t.Fatalf("%s: the static site reads its manifest from %s, outside %s", data, s.manifest.path, s.dir)
		}
	})
}

// settingsFuzzHandler provisions a django app (root base, no process) and
// a django_files handler whose paths all come from the settings.
func settingsFuzzHandler(tb testing.TB, base string) *DjangoFiles {
	root, _ := json.Marshal(base)
	var cfg caddy.Config
	raw := fmt.Sprintf(`{"logging":{"logs":{"default":{"writer":{"output":"discard"}}}},"apps":{"django":{"root":%s}}}`, root)
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		tb.Fatal(err)
	}
	ctx, err := caddy.ProvisionContext(&cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h := &DjangoFiles{Upstream: "127.0.0.1:9"}
	if err := h.Provision(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Cleanup() })
	if h.app == nil || h.sites.fixed {
		tb.Fatal("the handler does not take its paths from the settings")
	}
	return h
}
