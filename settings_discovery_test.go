package caddydjango

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddy-django/caddy-django/internal/testkit"
	"go.uber.org/zap"
)

func TestPythonCommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	py := filepath.Join(bin, "python3.11")
	mustWrite(t, py, "")
	mustWrite(t, filepath.Join(bin, "gunicorn"), "#!"+py+"\nimport sys\n")
	mustWrite(t, filepath.Join(bin, "hypercorn"), "#!/usr/bin/env -S python3.11 -u\n")
	mustWrite(t, filepath.Join(bin, "uv"), "\x7fELF")
	for _, f := range []string{py, "gunicorn", "hypercorn", "uv"} {
		if err := os.Chmod(filepath.Join(bin, filepath.Base(f)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + bin}
	for _, c := range []struct {
		launcher, want []string
	}{
		{[]string{"/usr/bin/python3", "-m", "uvicorn"}, []string{"/usr/bin/python3"}},
		{[]string{"python3.11", "-m", "gunicorn"}, []string{py}},
		{[]string{"gunicorn"}, []string{py}},  // its #! line
		{[]string{"hypercorn"}, []string{py}}, // through env, flags skipped
		{[]string{"uv", "run", "--no-sync", "gunicorn"}, []string{"uv", "run", "--no-sync", "python"}},
		{[]string{"/nonexistent/gunicorn"}, nil}, // unreadable
		{[]string{"/bin/sh", "-c", "gunicorn"}, nil},
		{nil, nil},
	} {
		if got := pythonCommand(c.launcher, env); !slices.Equal(got, c.want) {
			t.Errorf("pythonCommand(%q) = %q, want %q", c.launcher, got, c.want)
		}
	}
}

func TestResolvePaths(t *testing.T) {
	h := &DjangoFiles{root: "/srv/app", logger: zap.NewNop()}
	set := &DjangoSettings{StaticURL: "https://cdn.example.com/s/", StaticRoot: "/srv/collected", MediaURL: "/uploads/", MediaRoot: "uploads"}
	if p := h.resolvePaths(staticKind, set); p.Served || p.URLFrom != fromSettings || !strings.Contains(p.Reason, "absolute") {
		t.Errorf("absolute STATIC_URL: %+v, want not served", p)
	}
	if p := h.resolvePaths(mediaKind, set); !p.Served || p.URL != "/uploads/" || p.Dir != "/srv/app/uploads" || p.DirFrom != fromSettings {
		t.Errorf("media from settings: %+v", p)
	}
	if p := h.resolvePaths(mediaKind, nil); !p.Served || p.URL != "/media/" || p.Dir != "/srv/app/media_root" || p.URLFrom != fromDefault {
		t.Errorf("media with unreadable settings: %+v, want the defaults", p)
	}
	if p := h.resolvePaths(mediaKind, &DjangoSettings{}); p.Served || p.Reason != "MEDIA_URL is not set" {
		t.Errorf("media unset in the settings: %+v, want not served", p)
	}
	h.Static = &StaticFiles{URL: "/static"}
	if p := h.resolvePaths(staticKind, set); !p.Served || p.URL != "/static/" || p.URLFrom != fromCaddyfile || p.Dir != "/srv/collected" || p.DirFrom != fromSettings {
		t.Errorf("Caddyfile URL, settings root: %+v", p)
	}
}

// A copy of the demo project whose settings module is demo.settings_assets:
// static files under /assets/ in a directory outside the project (with its
// manifest named assets.json), uploads under /uploads/.
type assetsProject struct {
	*djangoProject
	assets, uploads, rootFiles, importLog string
	env                                   []string
}

func newAssetsProject(t *testing.T, extraEnv ...string) *assetsProject {
	t.Helper()
	d := newDjangoProject(t)
	p := &assetsProject{djangoProject: d, assets: filepath.Join(t.TempDir(), "collected"), uploads: t.TempDir(),
		rootFiles: t.TempDir(), importLog: filepath.Join(t.TempDir(), "imports")}
	if err := testkit.CopyTree(d.StaticRoot, p.assets, isPycache); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(p.assets, "staticfiles.json"), filepath.Join(p.assets, "assets.json")); err != nil {
		t.Fatal(err)
	}
	// hashed-looking but in no manifest: cached briefly when assets.json is read
	mustWrite(t, filepath.Join(p.assets, "css", "stale.0123456789ab.css"), "body{}")
	mustWrite(t, filepath.Join(p.uploads, "evil.html"), "<script>alert(1)</script>")
	mustWrite(t, filepath.Join(p.rootFiles, "robots.txt"), "User-agent: *\n")
	p.env = append(append(d.Env, "DJANGO_ASSETS_ROOT="+p.assets, "DJANGO_UPLOADS_ROOT="+p.uploads, "DJANGO_ROOT_FILES="+p.rootFiles,
		"DJANGO_IMPORT_LOG="+p.importLog), extraEnv...)
	return p
}

// config is a Caddyfile for s running the project with settings module
// module and the site block's body site.
func (p *assetsProject) config(s *djangoSite, admin, module, site string) string {
	django := fmt.Sprintf(`
		root %s
		env DJANGO_SETTINGS_MODULE %s
		gunicorn demo.wsgi:application {
			command %s
			bind 127.0.0.1:%d
			workers 1
		}`, p.Root, module, systemGunicorn, s.gport)
	return globalBlock(admin, django) + fmt.Sprintf("\n:%d {\n\t%s\n}\n", s.hport, site)
}

// probeReads counts the imports of the settings module by the settings
// probe (not by Gunicorn's workers).
func (p *assetsProject) probeReads(t *testing.T) int {
	data, err := os.ReadFile(p.importLog)
	if os.IsNotExist(err) {
		return 0
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "-c\n")
}

func (p *assetsProject) start(t *testing.T, module, site string) *djangoSite {
	t.Helper()
	s := &djangoSite{project: p.djangoProject, gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		return p.config(s, admin, module, site)
	}, p.env...)
	return s
}

func getWithHeaders(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (c *caddyProc) filesStatus() FilesStatus {
	c.t.Helper()
	resp, err := adminClient.Get("http://" + c.admin + "/django/files")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var fs FilesStatus
	if err := json.NewDecoder(resp.Body).Decode(&fs); err != nil {
		c.t.Fatalf("decoding /django/files: %v", err)
	}
	return fs
}

// TestSettingsDiscovery: `django_files` with no static or media lines
// serves the paths of the project's own settings (a STATIC_ROOT outside the
// project, STATIC_URL /assets/, its storage's manifest name, MEDIA_URL
// /uploads/, WHITENOISE_ROOT at the site root) with the usual caching and
// safety headers; `caddy validate`
// does not read the settings; a config reload that changes nothing does not
// read them again, a deploy does.
func TestSettingsDiscovery(t *testing.T) {
	p := newAssetsProject(t)
	site := "django_files"

	cfg := p.config(&djangoSite{gport: freePort(t), hport: freePort(t)}, "127.0.0.1:1", "demo.settings_assets", site)
	validate := exec.Command(caddyBinary(t), "validate", "--config", writeCaddyfile(t, t.TempDir(), cfg), "--adapter", "caddyfile")
	validate.Env = append(os.Environ(), p.env...)
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
	if n := p.probeReads(t); n != 0 {
		t.Fatalf("caddy validate read the settings (%d imports)", n)
	}

	s := p.start(t, "demo.settings_assets", site)
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	hashed := hashedName(t, p.djangoProject, "css/app.css")
	code, hdr, _ := getWithHeaders(t, s.url("/assets/"+hashed))
	if code != http.StatusOK {
		t.Fatalf("GET /assets/%s: %d, want 200 from the settings' STATIC_ROOT", hashed, code)
	}
	wantHeader(t, hdr, "Cache-Control", "public, max-age=31536000, immutable")
	wantHeader(t, hdr, "Access-Control-Allow-Origin", "*")
	_, hdr, _ = getWithHeaders(t, s.url("/assets/css/stale.0123456789ab.css"))
	wantHeader(t, hdr, "Cache-Control", "public, max-age=60") // assets.json, the storage's manifest, was read
	if code, _, _ := getWithHeaders(t, s.url("/static/"+hashed)); code == http.StatusOK {
		t.Errorf("GET /static/%s: 200, want it left to Django (STATIC_URL is /assets/)", hashed)
	}
	code, hdr, _ = getWithHeaders(t, s.url("/uploads/evil.html"))
	if code != http.StatusOK {
		t.Fatalf("GET /uploads/evil.html: %d, want 200 from MEDIA_ROOT", code)
	}
	wantHeader(t, hdr, "X-Content-Type-Options", "nosniff")
	wantHeader(t, hdr, "Content-Security-Policy", "sandbox")
	wantHeader(t, hdr, "Content-Disposition", "attachment")

	code, hdr, body := getWithHeaders(t, s.url("/robots.txt"))
	if code != http.StatusOK || body != "User-agent: *\n" {
		t.Errorf("GET /robots.txt: %d %q, want WHITENOISE_ROOT's file", code, body)
	}
	wantHeader(t, hdr, "Cache-Control", "public, max-age=60")

	fs := s.filesStatus()
	if len(fs.Handlers) != 1 || fs.Settings == nil || fs.Settings.Settings == nil {
		t.Fatalf("/django/files: %+v", fs)
	}
	if got := fs.Settings.Settings.StaticStorage; got != "demo.storage.AssetsStorage" { // STORAGES on 4.2+
		t.Errorf("staticfiles storage read: %q", got)
	}
	if st := fs.Handlers[0].Static; st.URL != "/assets/" || st.Dir != p.assets || st.URLFrom != fromSettings || st.DirFrom != fromSettings {
		t.Errorf("status of static: %+v", st)
	}
	if rf := fs.Handlers[0].RootFiles; rf == nil || rf.Dir != p.rootFiles || rf.DirFrom != fromSettings {
		t.Errorf("status of root files: %+v", rf)
	}
	if n := p.probeReads(t); n != 1 {
		t.Fatalf("settings read %d times by the probe at start, want 1", n)
	}
	out, errOut, code := runCLI(t, "status", "--address", s.admin)
	if code != 0 || !strings.Contains(out, "/assets/") || !strings.Contains(out, p.assets) || !strings.Contains(out, "settings: demo.settings_assets") {
		t.Errorf("caddy django status: exit %d, want the files table with /assets/ and %s\n%s%s", code, p.assets, out, errOut)
	}
	out, errOut, code = runCLI(t, "files", "--json", "--address", s.admin)
	if err := json.Unmarshal([]byte(out), &fs); code != 0 || err != nil || fs.Handlers[0].Media.URL != "/uploads/" {
		t.Errorf("caddy django files --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}

	// the cache of the settings' STATIC_ROOT, built by the first request
	cacheFiles := func() float64 {
		return scrapeMetrics(t, "http://"+s.admin+"/metrics")[`caddy_django_static_cache_files{dir="`+p.assets+`"}`]
	}
	var cached float64
	waitFor(t, 30*time.Second, func() bool { cached = cacheFiles(); return cached > 0 }, "the static cache built")
	unused := filepath.Join(p.Root, "static_root") // the default, only checked in Provision
	if _, ok := scrapeMetrics(t, "http://"+s.admin+"/metrics")[`caddy_django_static_cache_files{dir="`+unused+`"}`]; ok {
		t.Errorf("a static cache for %s, which nothing serves, is in the metrics", unused)
	}

	// a reload that changes nothing the settings depend on: no Python
	if err := s.reload(p.config(s, s.admin, "demo.settings_assets", site+"\n\theader X-Reloaded 1")); err != nil {
		t.Fatal(err)
	}
	resp := getAfterReload(t, s.url("/assets/"+hashed))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Reloaded") != "1" {
		t.Fatalf("after the reload: %d, X-Reloaded %q", resp.StatusCode, resp.Header.Get("X-Reloaded"))
	}
	if n := p.probeReads(t); n != 1 {
		t.Errorf("settings read %d times by the probe after a reload that changed nothing, want 1", n)
	}
	// the old config's cache is released with it: one cache's files, not two
	getAfterReload(t, s.url("/assets/"+hashed)).Body.Close()
	waitFor(t, 30*time.Second, func() bool { return cacheFiles() == cached }, "one static cache after the reload")

	// a deploy reads them again
	if code, body := s.post("/django/reload"); code != http.StatusOK {
		t.Fatalf("deploy: %d %s", code, body)
	}
	if n := p.probeReads(t); n != 2 {
		t.Errorf("settings read %d times by the probe after a deploy, want 2", n)
	}

	// a deploy whose settings cannot be read keeps the paths in effect
	settings := filepath.Join(p.Root, "demo", "settings_assets.py")
	mustWrite(t, settings, string(mustRead(t, settings))+"\nimport caddy_django_missing_package\n")
	s.post("/django/reload") // fails: Gunicorn cannot load the settings either
	s.waitLog(60*time.Second, "warning after the deploy", func(e logEntry) bool {
		return strings.HasSuffix(e.str("msg"), "django_files uses the previous reading")
	})
	if code, _, _ := getWithHeaders(t, s.url("/assets/"+hashed)); code != http.StatusOK {
		t.Errorf("GET /assets/%s after a deploy with broken settings: %d, want 200", hashed, code)
	}
}

// TestSettingsDiscoveryOverrides: a Caddyfile value wins over the
// settings' with a warning naming both; `hide` applies to a MEDIA_ROOT from
// the settings; an absolute STATIC_URL (a CDN) means Caddy does not serve
// static files.
func TestSettingsDiscoveryOverrides(t *testing.T) {
	p := newAssetsProject(t, "DJANGO_ASSETS_URL=https://cdn.example.com/assets/")
	mustWrite(t, filepath.Join(p.uploads, "invoices", "1.pdf"), "%PDF-")
	s := p.start(t, "demo.settings_assets", "django_files {\n\t\tmedia /files/ {\n\t\t\thide invoices\n\t\t}\n\t}")
	s.waitState(gunicornName, StateRunning, 60*time.Second)
	warn := s.waitLog(30*time.Second, "override warning", func(e logEntry) bool {
		return strings.Contains(e.str("msg"), "differs from the project's MEDIA_URL")
	})
	if warn.str("caddyfile") != "/files/" || warn.str("media_url") != "/uploads/" || warn.str("level") != "warn" {
		t.Errorf("warning: %+v, want caddyfile /files/ and media_url /uploads/ at warn level", warn)
	}
	code, hdr, _ := getWithHeaders(t, s.url("/files/evil.html"))
	if code != http.StatusOK {
		t.Fatalf("GET /files/evil.html: %d, want 200 (the Caddyfile's URL, the settings' MEDIA_ROOT)", code)
	}
	wantHeader(t, hdr, "Content-Security-Policy", "sandbox")
	if code, _, _ := getWithHeaders(t, s.url("/files/%69nvoices/1.pdf")); code != http.StatusNotFound {
		t.Errorf("GET /files/%%69nvoices/1.pdf: %d, want 404 (hidden)", code)
	}
	hashed := hashedName(t, p.djangoProject, "css/app.css")
	for _, path := range []string{"/assets/" + hashed, "/static/" + hashed, "/uploads/evil.html"} {
		if code, _, _ := getWithHeaders(t, s.url(path)); code == http.StatusOK {
			t.Errorf("GET %s: 200, want it left to Django", path)
		}
	}
	if st := s.filesStatus().Handlers[0].Static; st.Served || !strings.Contains(st.Reason, "absolute") {
		t.Errorf("status of static with a CDN STATIC_URL: %+v", st)
	}
}

// TestSettingsDiscoveryFallback: settings that cannot be read leave the
// defaults in effect, with a warning that names the exception.
func TestSettingsDiscoveryFallback(t *testing.T) {
	p := newAssetsProject(t)
	s := p.start(t, "demo.settings_broken", "django_files")
	warn := s.waitLog(60*time.Second, "fallback warning", func(e logEntry) bool {
		return strings.HasPrefix(e.str("msg"), "cannot read the project's settings")
	})
	if !strings.Contains(warn.str("error"), "No module named 'caddy_django_missing_package'") || warn.str("level") != "warn" {
		t.Errorf("warning: %+v, want the exception line at warn level", warn)
	}
	hashed := hashedName(t, p.djangoProject, "css/app.css")
	if code, _, _ := getWithHeaders(t, s.url("/static/"+hashed)); code != http.StatusOK {
		t.Errorf("GET /static/%s: %d, want 200 from the default static_root", hashed, code)
	}
	fs := s.filesStatus()
	if fs.Settings == nil || !strings.Contains(fs.Settings.Error, "No module named") {
		t.Errorf("/django/files settings: %+v, want the error", fs.Settings)
	}
	if st := fs.Handlers[0].Static; st.URLFrom != fromDefault || st.DirFrom != fromDefault {
		t.Errorf("status of static: %+v, want defaults", st)
	}
}

// TestProbeInputPython: the `python` option wins over the app server's
// interpreter; without it, the first app server's launcher decides.
func TestProbeInputPython(t *testing.T) {
	for _, c := range []struct{ django, want string }{
		{"python /opt/venv/bin/python\n\t\tgunicorn config.wsgi:application {\n\t\t\tcommand /usr/bin/python3 -m gunicorn\n\t\t}", "/opt/venv/bin/python"},
		{"gunicorn config.wsgi:application {\n\t\t\tcommand /usr/bin/python3 -m gunicorn\n\t\t}", "/usr/bin/python3"},
		{"gunicorn config.wsgi:application {\n\t\t\tcommand uv run --no-sync gunicorn\n\t\t}", "uv run --no-sync python"},
	} {
		a, err := provisionDjango(t, "{\n\tdjango {\n\t\troot /app\n\t\t"+c.django+"\n\t}\n}")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(a.probeInput().python, " "); got != c.want {
			t.Errorf("%s: reads the settings with %q, want %q", c.django, got, c.want)
		}
	}
}

// TestSettingsModuleFromEntryPoints: without DJANGO_SETTINGS_MODULE in the
// environment, the probe takes the settings module from the app server's
// WSGI/ASGI module, else from manage.py, as their own
// os.environ.setdefault(...) (or os.environ[...] = ...) calls name it,
// read with Python's ast: neither file runs. The environment wins; with no
// name anywhere the error says where it looked.
func TestSettingsModuleFromEntryPoints(t *testing.T) {
	requireDjango(t)
	const executed = `open(__file__ + ".executed", "w").close()` + "\n"
	settings := "STATIC_URL = '/assets/'\nSTATIC_ROOT = '/srv/collected'\nMEDIA_URL = '/uploads/'\nMEDIA_ROOT = '/srv/uploads'\n"
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "DJANGO_SETTINGS_MODULE=") })
	const (
		wsgiProduction = `import os` + "\n" + `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")` + "\n"
		manageLocal    = "import os\ndef main():\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local')\nmain()\n"
	)
	for _, c := range []struct {
		name, wsgi, manage, env string
		module, from, err       string
	}{{
		name: "wsgi.py wins over manage.py", wsgi: wsgiProduction, manage: manageLocal,
		module: "config.settings.production", from: "config/wsgi.py",
	}, {
		name: "manage.py when wsgi.py names none", wsgi: "application = None\n", manage: manageLocal,
		module: "config.settings.local", from: "manage.py",
	}, {
		name:   "an assignment, environ imported from os, a name computed at run time skipped",
		wsgi:   "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', os.getenv('X', 'config.settings.local'))\n",
		manage: "from os import environ\nenviron['DJANGO_SETTINGS_MODULE'] = 'config.settings.production'\n",
		module: "config.settings.production", from: "manage.py",
	}, {
		name: "the environment wins", wsgi: wsgiProduction, env: "config.settings.local",
		module: "config.settings.local", from: "environment",
	}, {
		name:   "named nowhere",
		wsgi:   "application = None\n",
		manage: "import sys\n",
		err:    "DJANGO_SETTINGS_MODULE is not set, and neither config/wsgi.py nor manage.py sets it",
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"config/__init__.py", "config/settings/__init__.py"} {
				mustWrite(t, filepath.Join(dir, f), "")
			}
			mustWrite(t, filepath.Join(dir, "config/settings/production.py"), settings)
			mustWrite(t, filepath.Join(dir, "config/settings/local.py"), strings.ReplaceAll(settings, "/assets/", "/local-assets/"))
			mustWrite(t, filepath.Join(dir, "config/wsgi.py"), executed+c.wsgi)
			if c.manage != "" {
				mustWrite(t, filepath.Join(dir, "manage.py"), executed+c.manage)
			}
			in := probeInput{python: []string{systemPython}, dir: dir, env: env,
				entry: "config.wsgi:application", manage: filepath.Join(dir, "manage.py")}
			if c.env != "" {
				in.env = append(slices.Clone(env), "DJANGO_SETTINGS_MODULE="+c.env)
			}
			st, files := readSettings(context.Background(), in, zap.NewNop())
			if c.err != "" {
				t.Logf("error: %s", st.Error)
				if !strings.Contains(st.Error, c.err) {
					t.Errorf("error %q, want it to say %q", st.Error, c.err)
				}
			} else if st.Error != "" || st.Settings.SettingsModule != c.module || st.Settings.SettingsModuleFrom != c.from {
				t.Errorf("read %+v (error %q), want %s from %s", st.Settings, st.Error, c.module, c.from)
			} else if want := map[string]string{"config.settings.production": "/assets/", "config.settings.local": "/local-assets/"}[c.module]; st.Settings.StaticURL != want {
				t.Errorf("STATIC_URL %q, want %q (%s)", st.Settings.StaticURL, want, c.module)
			}
			for _, f := range []string{"config/wsgi.py", "manage.py"} {
				if _, err := os.Stat(filepath.Join(dir, f+".executed")); err == nil {
					t.Errorf("%s was executed", f)
				}
			}
			// a change to the entry points is a change to the reading
			if c.env == "" && !slices.Contains(files, filepath.Join(dir, "config/wsgi.py")) {
				t.Errorf("files the reading depends on: %q, want config/wsgi.py among them", files)
			}
		})
	}
}

// TestREADMEExampleOnAStartprojectProject: README's headline Caddyfile, as
// written (but for the root, the site address, Gunicorn's bind and the
// admin address, which must be this test's own), runs a project made by
// `django-admin startproject config`, whose settings module is named only
// by its own manage.py, config/wsgi.py and config/asgi.py: DJANGO_SETTINGS_MODULE is
// set nowhere in the Caddyfile or the environment. django_files serves the
// STATIC_URL and MEDIA_URL of config/settings.py, and `caddy django files`
// says the module name came from config/wsgi.py.
func TestREADMEExampleOnAStartprojectProject(t *testing.T) {
	t.Parallel()
	requireDjango(t)
	if v := os.Getenv("DJANGO_SETTINGS_MODULE"); v != "" {
		t.Fatalf("DJANGO_SETTINGS_MODULE=%s in the tests' environment: unset it (this test runs a project that names its own)", v)
	}
	root := filepath.Join(t.TempDir(), "app")
	mustWrite(t, filepath.Join(root, ".keep"), "")
	startproject := exec.Command(systemPython, "-m", "django", "startproject", "config", root)
	if out, err := startproject.CombinedOutput(); err != nil {
		t.Fatalf("django-admin startproject: %v\n%s", err, out)
	}
	settings := filepath.Join(root, "config", "settings.py")
	mustWrite(t, settings, string(mustRead(t, settings))+`
STATIC_URL = "/assets/"
STATIC_ROOT = BASE_DIR / "collected"
MEDIA_URL = "/uploads/"
MEDIA_ROOT = BASE_DIR / "uploads"
INSTALLED_APPS += ["jobs"]
`)
	// README's `process db_worker python manage.py db_worker` is
	// django-tasks' worker, which Debian does not package: a stand-in
	for _, f := range []string{"jobs/__init__.py", "jobs/management/__init__.py", "jobs/management/commands/__init__.py"} {
		mustWrite(t, filepath.Join(root, f), "")
	}
	mustWrite(t, filepath.Join(root, "jobs/management/commands/db_worker.py"), `import time
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Stands in for django-tasks' db_worker: waits for tasks"

    def handle(self, *args, **options):
        while True:
            time.sleep(1)
`)
	mustWrite(t, filepath.Join(root, "collected", "css", "site.css"), "body { color: teal }\n")
	mustWrite(t, filepath.Join(root, "uploads", "note.txt"), "uploaded\n")
	// the project's environment: `python` and `gunicorn` on PATH, as in a
	// virtualenv or an image's Python
	bin := t.TempDir()
	mustWrite(t, filepath.Join(bin, "python"), "#!/bin/sh\nexec "+systemPython+" \"$@\"\n")
	if err := os.Chmod(filepath.Join(bin, "python"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, systemGunicorn, filepath.Join(bin, "gunicorn"))

	readme := string(mustRead(t, "README.md"))
	start := strings.Index(readme, "```caddyfile\n")
	end := strings.Index(readme[start+1:], "```")
	if start < 0 || end < 0 {
		t.Fatal("README.md has no caddyfile block")
	}
	example := readme[start+len("```caddyfile\n") : start+1+end]
	s := &djangoSite{project: projectAt(root), gport: freePort(t), hport: freePort(t)}
	s.caddyProc = startCaddy(t, t.TempDir(), func(admin string) string {
		s.admin = admin
		cfg := example
		for _, r := range [][2]string{
			{"{\n", fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n", admin)},
			{"root /app\n", "root " + root + "\n"},
			{"gunicorn config.wsgi:application\n", fmt.Sprintf("gunicorn config.wsgi:application {\n\t\t\tbind 127.0.0.1:%d\n\t\t}\n", s.gport)},
			{"example.com {", fmt.Sprintf(":%d {", s.hport)},
		} {
			if strings.Count(cfg, r[0]) < 1 {
				t.Fatalf("README's first Caddyfile has no %q any more; this test runs it:\n%s", r[0], example)
			}
			cfg = strings.Replace(cfg, r[0], r[1], 1)
		}
		if strings.Contains(cfg, "DJANGO_SETTINGS_MODULE") {
			t.Fatalf("README's first Caddyfile sets DJANGO_SETTINGS_MODULE; this test is about a project that needs not:\n%s", cfg)
		}
		return cfg
	}, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	s.waitState(gunicornName, StateRunning, 90*time.Second)
	s.waitState("db_worker", StateRunning, 60*time.Second)

	if code, _, body := getWithHeaders(t, s.url("/assets/css/site.css")); code != http.StatusOK || body != "body { color: teal }\n" {
		t.Errorf("GET /assets/css/site.css: %d %.60q, want 200 from the settings' STATIC_ROOT", code, body)
	}
	if code, hdr, body := getWithHeaders(t, s.url("/uploads/note.txt")); code != http.StatusOK || body != "uploaded\n" || hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /uploads/note.txt: %d %.60q, want 200 from the settings' MEDIA_ROOT, with nosniff", code, body)
	}
	if code, _, body := getWithHeaders(t, s.url("/admin/login/")); code != http.StatusOK || !strings.Contains(body, "csrfmiddlewaretoken") {
		t.Errorf("GET /admin/login/ from Django through Gunicorn: %d", code)
	}
	if _, err := os.Stat(filepath.Join(root, "db.sqlite3")); err != nil {
		t.Errorf("the release command (migrate) made no database: %v", err)
	}
	fs := s.filesStatus()
	if fs.Settings == nil || fs.Settings.Settings == nil {
		t.Fatalf("settings not read: %+v", fs.Settings)
	}
	if got := fs.Settings.Settings; got.SettingsModule != "config.settings" || got.SettingsModuleFrom != "config/wsgi.py" {
		t.Errorf("settings module %q from %q, want config.settings from config/wsgi.py", got.SettingsModule, got.SettingsModuleFrom)
	}
	if warns := s.entries(func(e logEntry) bool {
		return strings.Contains(e.str("logger"), "django") && (e.str("level") == "warn" || e.str("level") == "error")
	}); len(warns) > 0 {
		t.Errorf("warnings or errors: %v", warns)
	}
	out, errOut, code := runCLI(t, "files", "--address", s.admin)
	if want := "settings: config.settings (DJANGO_SETTINGS_MODULE from config/wsgi.py;"; code != 0 || !strings.Contains(out, want) {
		t.Errorf("caddy django files: exit %d, want %q\n%s%s", code, want, out, errOut)
	}
}
