package caddydjango

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/klauspost/compress/zstd"
)

// Unit tests of the django_files handler: manifest parsing and caching, the
// hash-in-name rule, path safety, the confined filesystem, precompression
// and the Caddyfile syntax.

func TestHandlerParseManifest(t *testing.T) {
	got, err := parseManifest([]byte(`{"paths": {"css/app.css": "css/app.554a67f51a76.css", "js/a.js": "js/a.0123456789ab.js"}, "version": "1.0", "hash": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"css/app.554a67f51a76.css", "js/a.0123456789ab.js"} {
		if !got.isImmutable(name) {
			t.Errorf("%s is not immutable with %v", name, got.hashed)
		}
	}
	for _, name := range []string{"css/app.css", "js/a.js", "css/other.554a67f51a76.css", "js/a.0123456789ab.css", "css/app.554a67f51a7.css"} {
		if got.isImmutable(name) {
			t.Errorf("%s must not be immutable (not a hash of a manifest name)", name)
		}
	}
	for _, bad := range []string{`{"paths": `, `{"version": "1.0"}`, `[]`, ``} {
		if _, err := parseManifest([]byte(bad)); err == nil {
			t.Errorf("parseManifest(%q) succeeded", bad)
		}
	}
}

func TestHandlerHashInNameRule(t *testing.T) {
	for name, want := range map[string]bool{
		"css/app.554a67f51a76.css":        true,
		"app.554a67f51a76.css":            true,
		"a/b/c/x.min.0123456789ab.js":     true,
		"app.css.554a67f51a76.map":        true,
		"app.554a67f51a76.css.gz":         false, // sidecar names are not requested
		"app.css":                         false,
		"app.554A67F51A76.css":            false, // Django's hashes are lowercase
		"app.554a67f51a7.css":             false, // 11 digits
		"app.554a67f51a76a.css":           false, // 13 digits
		"app-554a67f51a76.css":            false,
		".554a67f51a76.css":               false, // no stem
		"app.554a67f51a76.":               false, // no extension
		"app.554a67f51a76":                false,
		"554a67f51a76.css":                false,
		"dir.554a67f51a76.d/app.css":      false,
		"app.g54a67f51a76.css":            false,
		"fonts/demo.1ef22a8966b3.woff2":   true,
		"img/logo.0b81ddd0e70d.svg":       true,
		"deep/dir/file.ffffffffffff.json": true,
	} {
		if got := hasHashInName(name); got != want {
			t.Errorf("hasHashInName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHandlerManifestCacheRereads(t *testing.T) {
	dir := t.TempDir()
	m := &manifestCache{path: filepath.Join(dir, "staticfiles.json")}
	now := time.Now().UnixNano()

	// no manifest: the hash-in-name rule
	st, _ := m.get(now)
	if st.present || !st.isImmutable("css/app.554a67f51a76.css") || st.isImmutable("css/app.css") {
		t.Fatalf("without a manifest the name rule applies: %+v", st)
	}

	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(m.path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"paths": {"css/app.css": "css/app.111111111111.css"}}`)
	// within the same second nothing is re-checked
	if st, _ := m.get(now + int64(500*time.Millisecond)); st.present {
		t.Fatal("manifest re-checked before a second passed")
	}
	st, changed := m.get(now + int64(1100*time.Millisecond))
	if !st.present || !changed {
		t.Fatalf("manifest not read after a second: %+v changed=%v", st, changed)
	}
	if !st.isImmutable("css/app.111111111111.css") || st.isImmutable("css/other.554a67f51a76.css") {
		t.Fatal("with a manifest only hashes of its names are immutable, not any hash-like name")
	}

	// unchanged: same state, not reported as changed
	st2, changed := m.get(now + int64(2200*time.Millisecond))
	if st2 != st || changed {
		t.Fatal("unchanged manifest was re-parsed")
	}

	// a new collectstatic (different size and mtime)
	write(`{"paths": {"css/app.css": "css/app.222222222222.css", "js/a.js": "js/a.333333333333.js"}}`)
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(m.path, future, future); err != nil {
		t.Fatal(err)
	}
	st3, changed := m.get(now + int64(3300*time.Millisecond))
	if !changed || !st3.isImmutable("css/app.222222222222.css") || !st3.isImmutable("js/a.333333333333.js") {
		t.Fatalf("new manifest not picked up: %+v", st3)
	}
	// the previous collectstatic's css/app.111111111111.css is still a hash
	// of css/app.css (pages cached before the deploy ask for it)
	if !st3.isImmutable("css/app.111111111111.css") || st3.isImmutable("css/b.111111111111.css") {
		t.Fatalf("earlier hashed versions of manifest names: %+v", st3)
	}

	// half-written manifest: keep the last good one
	write(`{"paths": {"css/app.css": "css/app.4444`)
	st4, _ := m.get(now + int64(4400*time.Millisecond))
	if st4 != st3 {
		t.Fatal("a truncated manifest replaced the good one")
	}

	// removed: back to the name rule
	os.Remove(m.path)
	st5, _ := m.get(now + int64(5500*time.Millisecond))
	if st5.present || !st5.isImmutable("css/app.554a67f51a76.css") {
		t.Fatalf("removed manifest still used: %+v", st5)
	}
}

func TestHandlerRequestPathSafety(t *testing.T) {
	for _, tc := range []struct {
		rel, raw string
		ok       bool
	}{
		{"css/app.css", "", true},
		{"uploads/a b.png", "", true},
		{"uploads/", "", true}, // a directory URL: the file server answers 404
		{"", "", false},
		{"../secret", "", false},
		{"a/../../secret", "", false},
		{"a/./b", "", false},
		{"a//b", "", false},
		{"/etc/passwd", "", false},
		{"a\\..\\b", "", false},
		{"a\x00.png", "", false},
		{".env", "", false},
		{"a/.git/config", "", false},
		{"a/..", "", false},
		{"a/b", "/media/a%2Fb", false},
		{"a/b", "/media/a%2fb", false},
		{"a\\b", "/media/a%5Cb", false},
		{"a b", "/media/a%20b", true},
	} {
		if got := safeRequestPath(tc.rel, tc.raw); got != tc.ok {
			t.Errorf("safeRequestPath(%q, %q) = %v, want %v", tc.rel, tc.raw, got, tc.ok)
		}
	}
}

func TestHandlerProtectedTargets(t *testing.T) {
	p := &protectedSite{dir: "/srv/private", realDir: "/data/private", prefix: "/protected/"}
	for _, tc := range []struct {
		v, want string
		ok      bool
	}{
		{"/protected/report.pdf", "report.pdf", true},
		{"/protected/uploads/a%20b.pdf", "uploads/a b.pdf", true},
		{"/protected/r%C3%A9sum%C3%A9.pdf", "résumé.pdf", true},
		{"/protected/report.pdf?x=1", "report.pdf", true},
		{"/protected/../settings.py", "", false},
		{"/protected/%2e%2e/settings.py", "", false},
		{"/protected/a/%2e%2e/%2e%2e/x", "", false},
		{"/protected/..%2fsettings.py", "", false},
		{"/protected/a%5c..%5cb", "", false},
		{"/protected/a%00b", "", false},
		{"/protected/.env", "", false},
		{"/protected/", "", false},
		{"/protected/dir/", "", false},
		{"/protected//etc/passwd", "", false},
		{"/other/report.pdf", "", false},
		{"protected/report.pdf", "", false},
		{"/protected/%zz", "", false},
		{"", "", false},
	} {
		got, ok := p.accelTarget(tc.v)
		if ok != tc.ok || got != tc.want {
			t.Errorf("accelTarget(%q) = %q, %v; want %q, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		v, want string
		ok      bool
	}{
		{"/srv/private/report.pdf", "report.pdf", true},
		{"/srv/private/uploads/x.txt", "uploads/x.txt", true},
		{"/data/private/report.pdf", "report.pdf", true}, // the root's real path
		{"/srv/private/../secret", "", false},
		{"/srv/private/a/../../secret", "", false},
		{"/srv/private", "", false},
		{"/srv/private/", "", false},
		{"/srv/privateer/x", "", false},
		{"/srv/private/.env", "", false},
		{"/etc/passwd", "", false},
		{"report.pdf", "", false},
		{"/srv/private/a\x00b", "", false},
		{"", "", false},
	} {
		got, ok := p.sendfileTarget(tc.v)
		if ok != tc.ok || got != tc.want {
			t.Errorf("sendfileTarget(%q) = %q, %v; want %q, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHandlerRootFSConfines(t *testing.T) { checkRootFSConfines(t) }

// checkRootFSConfines: paths and symlinks cannot leave a rootFS, dotfiles
// are hidden, and a replaced or late directory is picked up.
func checkRootFSConfines(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "media")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(outside, "secret.txt"), "secret")
	mustWrite(t, filepath.Join(root, "sub", "ok.txt"), "ok")
	mustWrite(t, filepath.Join(root, ".hidden"), "hidden")
	mustSymlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(root, "file-link"))
	mustSymlink(t, outside, filepath.Join(root, "dir-link"))
	mustSymlink(t, "../outside/secret.txt", filepath.Join(root, "rel-link"))
	mustSymlink(t, "sub/ok.txt", filepath.Join(root, "inner-link"))

	f := &rootFS{dir: root}
	defer f.close()
	for name, want := range map[string]string{
		"sub/ok.txt":          "ok",
		"inner-link":          "ok", // symlinks inside the root are fine
		"file-link":           "",
		"dir-link/secret.txt": "",
		"rel-link":            "",
		".hidden":             "",
		"../outside/secret":   "",
		"/etc/passwd":         "",
		"sub/../../outside":   "",
	} {
		file, err := f.Open(name)
		if want == "" {
			if err == nil {
				file.Close()
				t.Errorf("Open(%q) succeeded", name)
			} else if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open(%q) = %v, want a not-exist error (404)", name, err)
			}
			if _, err := f.Stat(name); err == nil {
				t.Errorf("Stat(%q) succeeded", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		b, _ := io.ReadAll(file.(io.Reader))
		file.Close()
		if string(b) != want {
			t.Errorf("Open(%q) read %q", name, b)
		}
	}

	// the directory may be replaced (deploy): picked up within a second
	if err := os.Rename(root, root+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "sub", "ok.txt"), "new")
	f.nextCheck.Store(0) // as if a second passed
	file, err := f.Open("sub/ok.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(file.(io.Reader))
	file.Close()
	if string(b) != "new" {
		t.Fatalf("replaced directory not picked up: read %q", b)
	}

	// a root that does not exist yet (MEDIA_ROOT before the first upload)
	late := &rootFS{dir: filepath.Join(base, "late")}
	defer late.close()
	if _, err := late.Stat("x.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing root: %v", err)
	}
	mustWrite(t, filepath.Join(base, "late", "x.txt"), "x")
	if _, err := late.Stat("x.txt"); err != nil {
		t.Fatalf("root created later is not used at once: %v", err)
	}
}

func TestHandlerCompressTree(t *testing.T) {
	dir := t.TempDir()
	js := strings.Repeat("function hello(){return 'hello world';}\n", 500)
	mustWrite(t, filepath.Join(dir, "js", "app.0123456789ab.js"), js)
	mustWrite(t, filepath.Join(dir, "css", "tiny.css"), "a{}")                      // would grow
	mustWrite(t, filepath.Join(dir, "img", "x.png"), strings.Repeat("x", 5000))     // skipped type
	mustWrite(t, filepath.Join(dir, ".git", "big.txt"), strings.Repeat("y", 5000))  // hidden dir
	mustWrite(t, filepath.Join(dir, "rand.bin"), string(randomBytes(t, 4096)))      // incompressible
	mustWrite(t, filepath.Join(dir, "pre", "old.txt"), strings.Repeat("z", 5000))   // sidecar up to date
	mustWrite(t, filepath.Join(dir, "pre", "old.txt.gz"), "keep-me")                //
	mustWrite(t, filepath.Join(dir, "pre", "stale.txt"), strings.Repeat("s", 5000)) // sidecar stale
	mustWrite(t, filepath.Join(dir, "pre", "stale.txt.gz"), "stale")                //
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "pre", "stale.txt.gz"), past, past); err != nil {
		t.Fatal(err)
	}

	n, err := compressTree(t.Context(), dir, []string{"gzip", "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	// app.js gz+zst, old.txt zst, stale.txt gz+zst
	if n != 5 {
		t.Errorf("wrote %d sidecars, want 5", n)
	}
	gz := readGzip(t, filepath.Join(dir, "js", "app.0123456789ab.js.gz"))
	if gz != js {
		t.Error("gzip sidecar does not decode to the original")
	}
	zr, err := zstd.NewReader(bytes.NewReader(mustRead(t, filepath.Join(dir, "js", "app.0123456789ab.js.zst"))))
	if err != nil {
		t.Fatal(err)
	}
	zb, _ := io.ReadAll(zr)
	zr.Close()
	if string(zb) != js {
		t.Error("zstd sidecar does not decode to the original")
	}
	for _, absent := range []string{"css/tiny.css.gz", "img/x.png.gz", ".git/big.txt.gz", "rand.bin.gz", "rand.bin.zst"} {
		if _, err := os.Stat(filepath.Join(dir, absent)); err == nil {
			t.Errorf("%s was written", absent)
		}
	}
	if string(mustRead(t, filepath.Join(dir, "pre", "old.txt.gz"))) != "keep-me" {
		t.Error("an up-to-date sidecar was rewritten")
	}
	if readGzip(t, filepath.Join(dir, "pre", "stale.txt.gz")) != strings.Repeat("s", 5000) {
		t.Error("a stale sidecar was kept")
	}
	// no temporary files left behind
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	// second pass: nothing to do
	if n, err := compressTree(t.Context(), dir, []string{"gzip", "zstd"}); err != nil || n != 0 {
		t.Errorf("second pass wrote %d (%v), want 0", n, err)
	}
}

// TestHandlerValidateWritesNothing: `compress` must not write during
// `caddy validate` (Provision without Start).
func TestHandlerValidateWritesNothing(t *testing.T) {
	dir := t.TempDir()
	static := filepath.Join(dir, "static_root")
	mustWrite(t, filepath.Join(static, "app.js"), strings.Repeat("var x = 1;\n", 1000))
	cfgJSON := `{"admin":{"disabled":true},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[
		{"handler":"django_files","upstream":"127.0.0.1:9","static":{"root":` + jsonString(static) + `,"compress":["gzip","zstd"]},"media":{"root":` + jsonString(filepath.Join(dir, "m")) + `}}]}]}}}}}`
	var cfg caddy.Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(&cfg); err != nil {
		t.Fatal(err)
	}
	// a goroutine started by Provision would have written by now; look a
	// few times to give it the chance to fail this test
	for range 10 {
		if _, err := os.Stat(filepath.Join(static, "app.js.gz")); err == nil {
			t.Fatal("validate wrote a precompressed file")
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// ---------------------------------------------------------------- Caddyfile

// adaptFiles adapts a Caddyfile and returns the django_files handler's JSON.
func adaptFiles(t *testing.T, caddyfile string) (string, error) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return "", err
	}
	var found json.RawMessage
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["handler"] == "django_files" {
				found, _ = json.Marshal(x)
				return
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var cfg any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	walk(cfg)
	if found == nil {
		t.Fatalf("no django_files handler in %s", out)
	}
	return string(found), nil
}

func TestHandlerCaddyfileAdapts(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"bare", "example.com {\n\tdjango_files\n}", `{"handler":"django_files"}`},
		{
			"the contract example",
			`example.com {
	django_files {
		static /static/ /app/static_root
		media /media/ /app/media_root
		protected /app/private_files
		upstream 127.0.0.1:8000
	}
}`,
			`{"handler":"django_files","media":{"root":"/app/media_root","url":"/media/"},"protected":{"root":"/app/private_files"},"static":{"root":"/app/static_root","url":"/static/"},"upstream":"127.0.0.1:8000"}`,
		},
		{
			"every option",
			`:8080 {
	django_files {
		static /assets {
			max_age 5m
			immutable_max_age 30d
			compress gzip
			follow_symlinks
		}
		media /uploads/ uploads {
			max_age 1h
		}
		protected private {
			accel_prefix /internal
		}
		upstream unix//run/app.sock
		max_body 10MB
		request_buffer 64KiB
		buffer_dir /var/tmp
		trusted_proxies 10.0.0.0/8 192.168.1.1
		wait_timeout 1m
		upstream_keepalive 1s
	}
}`,
			`{"buffer_dir":"/var/tmp","handler":"django_files","max_body":10000000,"media":{"max_age":3600000000000,"root":"uploads","url":"/uploads/"},"protected":{"accel_prefix":"/internal","root":"private"},"request_buffer":65536,"static":{"compress":["gzip"],"follow_symlinks":true,"immutable_max_age":2592000000000000,"max_age":300000000000,"url":"/assets/"},"trusted_proxies":["10.0.0.0/8","192.168.1.1"],"upstream":"unix//run/app.sock","upstream_keepalive":1000000000,"wait_timeout":60000000000}`,
		},
		{"compress defaults to gzip and zstd", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcompress\n\t\t}\n\t}\n}", `{"handler":"django_files","static":{"compress":["gzip","zstd"]}}`},
		{"off", ":80 {\n\tdjango_files {\n\t\tstatic off\n\t\tmedia off\n\t}\n}", `{"handler":"django_files","media":{"disabled":true},"static":{"disabled":true}}`},
		{"private ranges", ":80 {\n\tdjango_files {\n\t\ttrusted_proxies private_ranges\n\t}\n}", `{"handler":"django_files","trusted_proxies":["192.168.0.0/16","172.16.0.0/12","10.0.0.0/8","127.0.0.1/8","fd00::/8","::1"]}`},
		{"with a matcher", ":80 {\n\tdjango_files /app/*\n}", `{"handler":"django_files"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := adaptFiles(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestHandlerCaddyfileNeedsNoOrder: django_files is in the standard
// directive order, after a matched reverse_proxy and before file_server.
func TestHandlerCaddyfileNeedsNoOrder(t *testing.T) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(":80 {\n\tfile_server /robots.txt\n\tdjango_files\n\treverse_proxy /ws/* 127.0.0.1:9000\n}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	rp, df, fsrv := strings.Index(s, `"reverse_proxy"`), strings.Index(s, `"django_files"`), strings.Index(s, `"file_server"`)
	if rp < 0 || df < 0 || fsrv < 0 || !(rp < df && df < fsrv) {
		t.Fatalf("want reverse_proxy < django_files < file_server, got %d %d %d in %s", rp, df, fsrv, s)
	}
}

func TestHandlerCaddyfileErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown option", ":80 {\n\tdjango_files {\n\t\tstatik /s/ /d\n\t}\n}", `Caddyfile:3 - Error during parsing: unknown django_files option "statik"`},
		{"argument on the directive", ":80 {\n\tdjango_files /app/* extra\n}", `Caddyfile:2 - Error during parsing: django_files takes no arguments, got "extra"`},
		{"unknown static option", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tmaxage 1m\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown static option "maxage"`},
		{"unknown media option", ":80 {\n\tdjango_files {\n\t\tmedia /m/ /d {\n\t\t\tbrowse\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown media option "browse"`},
		{"unknown protected option", ":80 {\n\tdjango_files {\n\t\tprotected /p {\n\t\t\tprefix /x/\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: unknown protected option "prefix"`},
		{"too many static args", ":80 {\n\tdjango_files {\n\t\tstatic /s/ /a /b\n\t}\n}", `Caddyfile:3 - Error during parsing: static takes a URL prefix and a directory, got 3 arguments`},
		{"relative prefix", ":80 {\n\tdjango_files {\n\t\tmedia media/ /d\n\t}\n}", `Caddyfile:3 - Error during parsing: media: URL prefix "media/" must start with /`},
		{"root prefix", ":80 {\n\tdjango_files {\n\t\tstatic / /d\n\t}\n}", `Caddyfile:3 - Error during parsing: static: URL prefix must not be /`},
		{"protected without dir", ":80 {\n\tdjango_files {\n\t\tprotected\n\t}\n}", `Caddyfile:3 - Error during parsing: protected needs the directory`},
		{"protected two dirs", ":80 {\n\tdjango_files {\n\t\tprotected /a /b\n\t}\n}", `Caddyfile:3 - Error during parsing: protected takes one directory, got extra "/b"`},
		{"upstream missing", ":80 {\n\tdjango_files {\n\t\tupstream\n\t}\n}", `Caddyfile:3 - Error during parsing: upstream needs a value`},
		{"two upstreams", ":80 {\n\tdjango_files {\n\t\tupstream a:1 b:2\n\t}\n}", `Caddyfile:3 - Error during parsing: upstream takes one value, got extra "b:2"`},
		{"bad size", ":80 {\n\tdjango_files {\n\t\tmax_body lots\n\t}\n}", `Caddyfile:3 - Error during parsing: max_body: "lots" is not a size`},
		{"zero size", ":80 {\n\tdjango_files {\n\t\trequest_buffer 0\n\t}\n}", `Caddyfile:3 - Error during parsing: request_buffer: "0" is not a size`},
		{"negative size", ":80 {\n\tdjango_files {\n\t\tmax_body -5MB\n\t}\n}", `Caddyfile:3 - Error during parsing: max_body: "-5MB" is not a size`},
		{"bad duration", ":80 {\n\tdjango_files {\n\t\twait_timeout soon\n\t}\n}", `Caddyfile:3 - Error during parsing: wait_timeout: "soon" is not a duration`},
		{"negative duration", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tmax_age -1m\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: max_age: "-1m" must be positive`},
		{"brotli", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcompress br\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: compress: brotli cannot be created`},
		{"unknown encoding", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tcompress deflate\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: compress: unknown encoding "deflate"`},
		{"off with a block", ":80 {\n\tdjango_files {\n\t\tstatic off {\n\t\t\tmax_age 1m\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: static is off`},
		{"twice", ":80 {\n\tdjango_files {\n\t\tupstream a:1\n\t\tupstream b:2\n\t}\n}", `Caddyfile:4 - Error during parsing: upstream is set twice`},
		{"trusted_proxies empty", ":80 {\n\tdjango_files {\n\t\ttrusted_proxies\n\t}\n}", `Caddyfile:3 - Error during parsing: trusted_proxies needs IP ranges`},
		{"follow_symlinks with a value", ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\tfollow_symlinks yes\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: follow_symlinks takes no arguments, got "yes"`},
		{"bad keepalive", ":80 {\n\tdjango_files {\n\t\tupstream_keepalive forever\n\t}\n}", `Caddyfile:3 - Error during parsing: upstream_keepalive: "forever" is not a duration`},
		{"bad accel prefix", ":80 {\n\tdjango_files {\n\t\tprotected /p {\n\t\t\taccel_prefix internal\n\t\t}\n\t}\n}", `Caddyfile:4 - Error during parsing: accel_prefix: URL prefix "internal" must start with /`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptFiles(t, tc.in)
			if err == nil {
				t.Fatalf("adapted without error; want %q", tc.want)
			}
			where, msg, _ := strings.Cut(tc.want, " - Error during parsing: ")
			if !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), where) {
				t.Errorf("error %q\nwant it to contain %q and %q", err, msg, where)
			}
		})
	}
}

// TestHandlerProvisionErrors: configurations that adapt but cannot work are
// refused when loaded, in plain words.
func TestHandlerProvisionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, handler, want string }{
		{"no upstream", `{"handler":"django_files"}`, "no upstream: set `upstream` or configure gunicorn in the django app"},
		{"protected inside media", `{"handler":"django_files","upstream":"127.0.0.1:9","media":{"root":` + jsonString(dir) + `},"protected":{"root":` + jsonString(filepath.Join(dir, "private")) + `}}`, "overlaps the media root"},
		{"protected is static", `{"handler":"django_files","upstream":"127.0.0.1:9","static":{"root":` + jsonString(dir) + `},"protected":{"root":` + jsonString(dir) + `}}`, "overlaps the static root"},
		{"same prefix", `{"handler":"django_files","upstream":"127.0.0.1:9","static":{"url":"/files/"},"media":{"url":"/files"}}`, "static and media use the same URL prefix /files/"},
		{"bad trusted proxy", `{"handler":"django_files","upstream":"127.0.0.1:9","trusted_proxies":["10.0.0.0/33"]}`, `trusted_proxies: "10.0.0.0/33" is not an IP range`},
		{"brotli in JSON", `{"handler":"django_files","upstream":"127.0.0.1:9","static":{"compress":["br"]}}`, "brotli cannot be created"},
		{"protected without root", `{"handler":"django_files","upstream":"127.0.0.1:9","protected":{}}`, "protected: root is required"},
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

// ---------------------------------------------------------------- helpers

func mustWrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSymlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func readGzip(t testing.TB, path string) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, path)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
