package caddydjango

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// TestStaticFinders: `static { finders }` serves STATIC_URL without
// collectstatic (the settings have no STATIC_ROOT) from the directories
// Django's finders look in, in their order: STATICFILES_DIRS first (a
// (prefix, path) pair under its prefix), then each installed app's static/
// folder in INSTALLED_APPS order (an app before django.contrib.admin
// overrides the admin's file, the others come from Django's own admin);
// with `no-cache` and revalidation; a saved file is served at once; each
// directory is confined like STATIC_ROOT (no `..`, no dotfiles, no
// directory, no symlink out); `caddy django files` lists the directories.
func TestStaticFinders(t *testing.T) {
	t.Parallel()
	d := newDjangoProject(t)
	vendor := t.TempDir()
	mustWrite(t, filepath.Join(vendor, "lib.js"), "var vendored = 1;\n")
	appStatic := filepath.Join(d.Root, "files", "static")
	mustWrite(t, filepath.Join(appStatic, "files", "app.css"), "/* the files app's own */\n")
	mustWrite(t, filepath.Join(appStatic, "css", "app.css"), "/* shadowed by assets/css/app.css */\n")
	mustWrite(t, filepath.Join(appStatic, "admin", "css", "base.css"), "/* the files app's admin theme */\n")
	mustWrite(t, filepath.Join(appStatic, ".secret"), "dotfile")
	mustSymlink(t, "/etc/passwd", filepath.Join(appStatic, "files", "passwd"))
	mustSymlink(t, filepath.Join(d.Root, "demo", "settings.py"), filepath.Join(appStatic, "files", "settings.py"))
	assetsCSS := filepath.Join(d.Root, "assets", "css", "app.css")

	env := append(d.Env, "DJANGO_VENDOR_DIR="+vendor)
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "DJANGO_STATIC_ROOT=") })
	s := &djangoSite{project: d, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return globalBlock(admin, "\t\troot "+d.Root+"\n\t\tenv DJANGO_SETTINGS_MODULE demo.settings_finders\n\t\tgunicorn demo.wsgi:application {\n\t\t\tcommand "+
			systemGunicorn+"\n\t\t\tbind 127.0.0.1:"+strconv.Itoa(s.gport)+"\n\t\t\tworkers 1\n\t\t}") +
			"\n:" + strconv.Itoa(s.hport) + " {\n\tdjango_files {\n\t\tstatic {\n\t\t\tfinders\n\t\t}\n\t}\n}\n"
	}, env...)
	s.waitState(gunicornName, StateRunning, 60*time.Second)

	var admin string // Django's own admin static folder, as the finders found it
	for _, f := range s.filesStatus().Handlers[0].Static.Finders {
		if f.From == "django.contrib.admin" {
			admin = f.Dir
		}
	}
	if admin == "" {
		t.Fatalf("no django.contrib.admin finder directory: %+v", s.filesStatus().Handlers[0].Static)
	}
	for _, c := range []struct{ path, want string }{
		{"/static/css/app.css", string(mustRead(t, assetsCSS))},                            // STATICFILES_DIRS before the apps
		{"/static/files/app.css", "/* the files app's own */\n"},                           // an app's static/
		{"/static/admin/css/base.css", "/* the files app's admin theme */\n"},              // an app before the admin
		{"/static/admin/css/login.css", string(mustRead(t, admin+"/admin/css/login.css"))}, // Django's admin
		{"/static/vendor/lib.js", "var vendored = 1;\n"},                                   // a (prefix, path) pair
	} {
		code, hdr, body := getWithHeaders(t, s.url(c.path))
		if code != http.StatusOK || body != c.want {
			t.Errorf("GET %s: %d %q, want %q", c.path, code, body, c.want)
			continue
		}
		wantHeader(t, hdr, "Cache-Control", "no-cache")
		if hdr.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag to revalidate with", c.path)
		}
	}
	_, hdr, _ := getWithHeaders(t, s.url("/static/css/app.css"))
	wantHeader(t, hdr, "Content-Type", "text/css; charset=utf-8")
	req, _ := http.NewRequest(http.MethodGet, s.url("/static/css/app.css"), nil)
	req.Header.Set("If-None-Match", hdr.Get("ETag"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %v %v, want 304", resp, err)
	} else {
		resp.Body.Close()
	}

	// a saved file is served at once: no collectstatic, no restart
	mustWrite(t, assetsCSS, "body { color: red }\n")
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(assetsCSS, later, later)
	if code, _, body := getWithHeaders(t, s.url("/static/css/app.css")); code != 200 || body != "body { color: red }\n" {
		t.Errorf("after saving assets/css/app.css: %d %q, want the new content", code, body)
	}

	// confined like STATIC_ROOT; what no finder has is a 404 from Caddy
	hashed := hashedName(t, d, "css/app.css") // collected into static_root, which finders do not serve
	addr := "127.0.0.1:" + strconv.Itoa(s.hport)
	for _, target := range []string{"/static/../demo/settings.py", "/static/%2e%2e/demo/settings.py", "/static/files/..%2f..%2fdemo%2fsettings.py",
		"/static/files/passwd", "/static/files/settings.py", "/static/.secret", "/static/files/", "/static/files", "/static/vendor/",
		"/static/" + hashed, "/static/missing.css"} {
		if code, body := rawGet(t, addr, target); code != http.StatusNotFound {
			t.Errorf("GET %s: %d %.60q, want 404", target, code, body)
		}
	}
	if code, _, _ := rawRequest(t, addr, "POST", "/static/css/app.css"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /static/css/app.css: %d, want 405", code)
	}

	out, errOut, code := runCLI(t, "files", "--address", s.admin)
	if code != 0 || !strings.Contains(out, "static") || !strings.Contains(out, "finders") ||
		!strings.Contains(out, "/static/vendor/") || !strings.Contains(out, vendor) || !strings.Contains(out, appStatic) {
		t.Errorf("caddy django files: exit %d\n%s%s\nwant the finder directories", code, out, errOut)
	}
}

// TestStaticFindersConfig: `finders` (alone, on, off, empty) in the Caddyfile;
// finders without the django app are refused when loaded.
func TestStaticFindersConfig(t *testing.T) {
	for in, want := range map[string]string{
		"finders":     `"static":{"finders":true}`,
		"finders on":  `"static":{"finders":true}`,
		"finders off": `"static":{}`,
		`finders ""`:  `"static":{}`, // "{$CADDY_DJANGO_DEV}" unset or empty
	} {
		got, err := adaptFiles(t, "example.com {\n\tdjango_files {\n\t\tstatic {\n\t\t\t"+in+"\n\t\t}\n\t}\n}")
		if err != nil || !strings.Contains(got, want) {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
	_, err := adaptFiles(t, "example.com {\n\tdjango_files {\n\t\tstatic {\n\t\t\tfinders maybe\n\t\t}\n\t}\n}")
	wantAdaptError(t, err, `Caddyfile:4 - Error during parsing: finders: "maybe" is not a boolean`)

	var cfg caddy.Config
	raw := `{"admin":{"disabled":true},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[{"handler":"django_files","upstream":"127.0.0.1:9","static":{"finders":true}}]}]}}}}}`
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(&cfg); err == nil || !strings.Contains(err.Error(), "finders needs the django app") {
		t.Errorf("finders without the django app: %v", err)
	}
}
