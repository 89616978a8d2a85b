package caddydjango

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

func TestCheckAlias(t *testing.T) {
	for _, tc := range []struct{ url, file, err string }{
		{"/favicon.ico", "images/favicon.ico", ""},
		{"/robots.txt", "robots.txt", ""},
		{"/service-worker.js", "js/sw.abc123def456.js", ""},
		{"/.well-known/security.txt", "security.txt", ""},
		{"/a/b/c.png", "c.png", ""},
		{"favicon.ico", "f.ico", "want a plain URL path"},
		{"/", "f.ico", "want a plain URL path"},
		{"/icons/", "f.ico", "want a plain URL path"},
		{"/../f.ico", "f.ico", "want a plain URL path"},
		{"/.env", "f.ico", "want a plain URL path"},
		{"/f*.ico", "f.ico", "want a plain URL path"},
		{"/favicon.ico", "../secret.txt", "the file is outside STATIC_ROOT"},
		{"/favicon.ico", "images/../../secret.txt", "the file is outside STATIC_ROOT"},
		{"/favicon.ico", "/etc/passwd", "the file is outside STATIC_ROOT"},
		{"/favicon.ico", "images/", "want a file relative to STATIC_ROOT"},
		{"/favicon.ico", ".hidden", "want a file relative to STATIC_ROOT"},
		{"/favicon.ico", "a//b", "want a file relative to STATIC_ROOT"},
		{"/favicon.ico", "images/../favicon.ico", "no . or .. segments"},
	} {
		err := checkAlias(tc.url, tc.file)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("checkAlias(%q, %q) = %v, want %q", tc.url, tc.file, err, tc.err)
		}
	}
}

func TestCaddyfileStaticAliasAndAlso(t *testing.T) {
	got, err := adaptFiles(t, ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\talias /favicon.ico images/favicon.ico\n\t\t\talias /robots.txt robots.txt\n\t\t\talso /data/favicons\n\t\t\talso /data/previews /data/assets\n\t\t}\n\t}\n}")
	if err != nil {
		t.Fatal(err)
	}
	want := `"static":{"aliases":{"/favicon.ico":"images/favicon.ico","/robots.txt":"robots.txt"},"also":["/data/favicons","/data/previews","/data/assets"]}`
	if !strings.Contains(got, want) {
		t.Errorf("got %s\nwant %s", got, want)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"alias outside STATIC_ROOT", "alias /favicon.ico ../../etc/passwd", `Caddyfile:4 - Error during parsing: alias /favicon.ico ../../etc/passwd: the file is outside STATIC_ROOT; name a file inside it, relative to it (e.g. images/favicon.ico)`},
		{"alias absolute", "alias /favicon.ico /app/static/favicon.ico", `Caddyfile:4 - Error during parsing: alias /favicon.ico /app/static/favicon.ico: the file is outside STATIC_ROOT`},
		{"alias without a file", "alias /favicon.ico", `Caddyfile:4 - Error during parsing: alias needs a URL path and a file relative to STATIC_ROOT`},
		{"alias with three values", "alias /favicon.ico a b", `Caddyfile:4 - Error during parsing: alias takes a URL path and a file, got 3 values`},
		{"alias not a path", "alias favicon.ico f.ico", `Caddyfile:4 - Error during parsing: alias "favicon.ico": want a plain URL path`},
		{"alias twice", "alias /f.ico a.ico\n\t\t\talias /f.ico b.ico", `Caddyfile:5 - Error during parsing: alias /f.ico is set twice`},
		{"also without a directory", "also", `Caddyfile:4 - Error during parsing: also needs a directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptFiles(t, ":80 {\n\tdjango_files {\n\t\tstatic {\n\t\t\t"+tc.in+"\n\t\t}\n\t}\n}")
			wantAdaptError(t, err, tc.want)
		})
	}
}

// TestFilesStaticAliasAndAlso: aliases serve single static files at the
// site root with the static rules (short max-age even for a hashed file,
// CORS, precompressed sidecars); `also` directories are searched after
// STATIC_ROOT under the static prefix, confined like it (a symlink out is
// a 404); a POST to an alias and a missing file elsewhere go to Django;
// an alias under the static prefix is refused when the config loads.
func TestFilesStaticAliasAndAlso(t *testing.T) {
	e := newFilesEnv(t, 1)
	static := e.d.StaticRoot
	mustWrite(t, filepath.Join(static, "images", "favicon.ico"), "ICON")
	mustWrite(t, filepath.Join(static, "robots.txt"), "User-agent: *\n")
	mustWrite(t, filepath.Join(static, "robots.txt.gz"), string(gzipBytes(t, "User-agent: *\n")))
	mustWrite(t, filepath.Join(static, "shadowed.txt"), "from STATIC_ROOT")
	hashed := hashedName(t, e.d, "css/app.css")
	data, previews, outside := t.TempDir(), t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(data, "favicons", "example.com.png"), "PNG")
	mustWrite(t, filepath.Join(data, "shadowed.txt"), "from also")
	mustWrite(t, filepath.Join(previews, "p1.webp"), "WEBP")
	mustWrite(t, filepath.Join(outside, "secret.txt"), "SECRET")
	mustSymlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(data, "leak.txt"))
	port := e.serve("upstream "+e.upstream, "static /static/ "+static+" {\n"+
		"\t\t\talias /favicon.ico images/favicon.ico\n"+
		"\t\t\talias /robots.txt robots.txt\n"+
		"\t\t\talias /app.css "+hashed+"\n"+
		"\t\t\talias /preview.webp p1.webp\n"+
		"\t\t\talso "+data+" "+previews+"\n\t\t}")
	base := site(port)

	for _, tc := range []struct{ path, body, ctype, cache string }{
		{"/favicon.ico", "ICON", "image/x-icon", "public, max-age=60"},
		{"/robots.txt", "User-agent: *\n", "text/plain; charset=utf-8", "public, max-age=60"},
		{"/app.css", "", "text/css; charset=utf-8", "public, max-age=60"}, // hashed, but the URL is not
		{"/preview.webp", "WEBP", "image/webp", "public, max-age=60"},     // from an `also` directory
		{"/static/favicons/example.com.png", "PNG", "image/png", "public, max-age=60"},
		{"/static/p1.webp", "WEBP", "image/webp", "public, max-age=60"},
		{"/static/shadowed.txt", "from STATIC_ROOT", "text/plain; charset=utf-8", "public, max-age=60"},
		{"/static/" + hashed, "", "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
	} {
		code, hdr, body := e.get(base+tc.path, nil)
		if code != 200 || (tc.body != "" && body != tc.body) {
			t.Errorf("GET %s: %d %q, want 200 %q", tc.path, code, body, tc.body)
			continue
		}
		wantHeader(t, hdr, "Content-Type", tc.ctype)
		wantHeader(t, hdr, "Cache-Control", tc.cache)
		wantHeader(t, hdr, "Access-Control-Allow-Origin", "*")
	}
	if e.djangoSaw(base, "/favicon.ico") != 0 {
		t.Error("Django saw a request for an alias")
	}
	code, hdr, _ := e.get(base+"/robots.txt", map[string]string{"Accept-Encoding": "gzip"})
	if code != 200 || hdr.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET /robots.txt with gzip: %d %q, want the .gz sidecar", code, hdr.Get("Content-Encoding"))
	}
	for _, p := range []string{"/static/leak.txt", "/static/../" + filepath.Base(outside) + "/secret.txt", "/static/favicons/missing.png"} {
		if code, _, body := e.get(base+p, nil); code != http.StatusNotFound || strings.Contains(body, "SECRET") {
			t.Errorf("GET %s: %d %q, want 404", p, code, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/favicon.ico", strings.NewReader("x"))
	if code, _, _ := e.do(req); code == 200 || e.djangoSaw(base, "/favicon.ico") != 1 {
		t.Errorf("POST /favicon.ico: %d; want it passed to Django", code)
	}

	// refused when the config loads
	for _, tc := range []struct{ opts, want string }{
		{"static /static/ " + static + " {\n\t\t\talias /static/x.ico images/favicon.ico\n\t\t}", "alias /static/x.ico: the URL is under the static prefix /static/"},
		{"static /static/ " + static + " {\n\t\t\talso " + static + "/images\n\t\t}", "overlaps the static root"},
		{"media /media/ " + data + "\n\t\tstatic /static/ " + static + " {\n\t\t\talso " + data + "\n\t\t}", "overlaps the media root " + data},
		{"protected " + previews + "\n\t\tstatic /static/ " + static + " {\n\t\t\talso " + previews + "\n\t\t}", "overlaps the static also root " + previews},
	} {
		cfg := filesSite(freePort(t), "upstream "+e.upstream, tc.opts)
		if err := validateCaddyfile(t, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.opts, err, tc.want)
		}
	}
}

// validateCaddyfile adapts and validates a Caddyfile as `caddy validate`
// does (provisioning every module, starting nothing).
func validateCaddyfile(t *testing.T, caddyfile string) error {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return err
	}
	var cfg caddy.Config
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	return caddy.Validate(&cfg)
}

// gzipBytes is s gzipped.
func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
