package caddydjango

import (
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

	"go.uber.org/zap"
)

// Tests of the memory cache of hashed static files: what it holds (in
// process), and that its responses are file_server's (end to end, one
// Caddy serving the same root with and without the cache).

// cacheTree writes a static root with a manifest mapping each name of
// files (hashed name → content) and returns it.
func cacheTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for name, content := range files {
		mustWrite(t, filepath.Join(dir, filepath.FromSlash(name)), content)
		paths = append(paths, fmt.Sprintf("%q: %q", "orig/"+name, name))
	}
	mustWrite(t, filepath.Join(dir, "staticfiles.json"), `{"paths": {`+strings.Join(paths, ", ")+`}, "version": "1.0"}`)
	return dir
}

func buildCache(t *testing.T, dir string, maxTotal, maxFile int64) *cacheTable {
	t.Helper()
	fsys := &rootFS{dir: dir}
	t.Cleanup(fsys.close)
	c := newStaticCache(dir, fsys, maxTotal, maxFile, "public, max-age=1, immutable", zap.NewNop())
	t.Cleanup(c.close)
	m := &manifestCache{path: filepath.Join(dir, "staticfiles.json")}
	st, _ := m.get(time.Now().UnixNano())
	if !st.present {
		t.Fatal("manifest not read")
	}
	return c.build(st)
}

func cachedNames(t *cacheTable) []string {
	var names []string
	for n := range t.files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func TestStaticCacheBudget(t *testing.T) {
	dir := cacheTree(t, map[string]string{
		"a.111111111111.css": strings.Repeat("a", 100),
		"b.222222222222.js":  strings.Repeat("b", 300), // over the per-file cap
		"c.333333333333.css": strings.Repeat("c", 100), // its sidecar is over the per-file cap
		"d.444444444444.css": strings.Repeat("d", 50),
	})
	mustWrite(t, filepath.Join(dir, "a.111111111111.css.gz"), "AGZ")
	mustWrite(t, filepath.Join(dir, "c.333333333333.css.br"), strings.Repeat("C", 250))

	tab := buildCache(t, dir, 1<<20, 200)
	if got, want := cachedNames(tab), []string{"a.111111111111.css", "d.444444444444.css"}; !slices.Equal(got, want) {
		// c fits alone, but not its sidecar: file_server would send it
		t.Errorf("cached %v, want %v", got, want)
	}
	if want := int64(100 + 3 + 50 + 3*cacheEntryBytes); tab.bytes != want {
		t.Errorf("bytes %d, want %d (three representations and their entries)", tab.bytes, want)
	}
	a := tab.files["a.111111111111.css"]
	if string(a.identity.data) != strings.Repeat("a", 100) || string(a.encoded["gzip"].data) != "AGZ" || len(a.encoded) != 1 {
		t.Errorf("a: %q %v", a.identity.data, a.encoded)
	}

	// the total: files are taken in name order while they fit (a and its
	// sidecar: 1,127 bytes; b and c do not fit in the 573 left, d does)
	tab = buildCache(t, dir, 1700, 1000)
	if got, want := cachedNames(tab), []string{"a.111111111111.css", "d.444444444444.css"}; !slices.Equal(got, want) {
		t.Errorf("with a 1700-byte total: cached %v, want %v", got, want)
	}
	if tab.bytes > 1700 {
		t.Errorf("over the total: %d bytes", tab.bytes)
	}
}

// TestStaticCacheCountsEntries: cache_size bounds the memory of many small
// files too: each one's entry (headers, structs) counts beside its bytes.
// Before, 100 files of 10 bytes took "1,000 bytes" of a 10 KiB budget.
func TestStaticCacheCountsEntries(t *testing.T) {
	files := map[string]string{}
	for i := range 100 {
		files[fmt.Sprintf("f%03d.%012x.css", i, i)] = "0123456789"
	}
	tab := buildCache(t, cacheTree(t, files), 10<<10, 1000)
	// each entry takes far more than 256 bytes of memory
	if n := len(tab.files); n == 0 || n > (10<<10)/(10+256) {
		t.Errorf("a 10 KiB budget holds %d files of 10 bytes; want at most %d", n, (10<<10)/(10+256))
	}
	if tab.bytes > 10<<10 {
		t.Errorf("counted %d bytes, over the 10 KiB budget", tab.bytes)
	}
}

func TestStaticCacheStaysInRoot(t *testing.T) {
	outside := t.TempDir()
	mustWrite(t, filepath.Join(outside, "secret.txt"), "SECRET")
	dir := cacheTree(t, map[string]string{
		"ok.555555555555.css": "ok",
		"in.666666666666.css": "target",
	})
	// a manifest naming an escaping symlink, `..` and a dotfile
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "esc.777777777777.css")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in.666666666666.css", filepath.Join(dir, "link.888888888888.css")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, ".hidden.999999999999.css"), "hidden")
	mustWrite(t, filepath.Join(dir, "staticfiles.json"), `{"paths": {"a": "ok.555555555555.css", "b": "esc.777777777777.css",
		"c": "../`+filepath.Base(outside)+`/secret.txt", "d": ".hidden.999999999999.css", "e": "link.888888888888.css"}}`)
	tab := buildCache(t, dir, 1<<20, 1<<20)
	if got, want := cachedNames(tab), []string{"link.888888888888.css", "ok.555555555555.css"}; !slices.Equal(got, want) {
		t.Errorf("cached %v, want %v (a symlink inside the root is followed, one leaving it is not)", got, want)
	}
}

// TestStaticCacheMatchesFileServer requests the same files from one Caddy
// serving the same root with the cache (the default) and with `cache_size
// off` (today's file_server path), with every kind of request that changes
// the answer, and compares status, headers and bodies; then again after a
// new collectstatic.
func TestStaticCacheMatchesFileServer(t *testing.T) {
	e := newFilesEnv(t, 1)
	cached, plain := freePort(t), freePort(t)
	e.load(filesSite(cached, "static /static/ "+e.d.StaticRoot, "upstream "+e.upstream) +
		filesSite(plain, "static /static/ "+e.d.StaticRoot+" {\n\t\t\tcache_size off\n\t\t}", "upstream "+e.upstream))

	js := hashedName(t, e.d, "js/app.js")
	base := filepath.Join(e.d.StaticRoot, filepath.FromSlash(js))
	for suffix, marker := range map[string]string{".br": "BROTLI-BODY", ".gz": "GZIP-BODY-0123456789"} {
		mustWrite(t, base+suffix, marker)
	}
	files := []string{js, hashedName(t, e.d, "css/app.css"), hashedName(t, e.d, "fonts/demo.woff2")}
	compareCached(t, e, cached, plain, files)

	// a deploy: new sources, collectstatic; the cache follows the new
	// manifest (the new names are served from memory), the old hashed
	// files are still served (from disk) as before
	mustWrite(t, filepath.Join(e.d.Root, "assets", "css", "app.css"), "body{color:red}\n")
	cmd := exec.Command(systemPython, "manage.py", "collectstatic", "--noinput")
	cmd.Dir, cmd.Env = e.d.Root, e.d.Env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("collectstatic: %v\n%s", err, out)
	}
	newCSS := hashedName(t, e.d, "css/app.css")
	if newCSS == files[1] {
		t.Fatal("collectstatic did not hash the new app.css differently")
	}
	compareCached(t, e, cached, plain, []string{newCSS, js})
	if st, h, body := e.get(site(cached)+"/static/"+files[1], nil); st != 200 || body == "body{color:red}\n" || h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("the previous hashed CSS after the deploy: %d %q", st, h.Get("Cache-Control"))
	}
}

// compareCached waits until the cached site serves names from memory, then
// compares its answers with the plain site's.
func compareCached(t *testing.T, e *filesEnv, cached, plain int, names []string) {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool {
		before := cacheHits(t, e.d.StaticRoot)
		e.get(site(cached)+"/static/"+names[0], nil)
		return cacheHits(t, e.d.StaticRoot) > before
	}, names[0]+" served from memory")

	for _, name := range names {
		_, h, _ := e.get(site(plain)+"/static/"+name, nil)
		etag, lastMod := h.Get("Etag"), h.Get("Last-Modified")
		if etag == "" || lastMod == "" {
			t.Fatalf("%s: no validators from file_server: %v", name, h)
		}
		older := time.Now().Add(-100 * 24 * time.Hour).UTC().Format(http.TimeFormat)
		cases := []map[string]string{
			{},
			{"Accept-Encoding": "gzip"},
			{"Accept-Encoding": "br"},
			{"Accept-Encoding": "gzip, deflate, br, zstd"},
			{"Accept-Encoding": "br;q=0.5, gzip;q=1.0"},
			{"Accept-Encoding": "identity"},
			{"Accept-Encoding": "gzip;q=0"},
			{"If-None-Match": etag},
			{"If-None-Match": `"other"`},
			{"If-None-Match": etag, "Accept-Encoding": "gzip"},
			{"If-Modified-Since": lastMod},
			{"If-Modified-Since": older},
			{"If-Unmodified-Since": older},
			{"If-Match": `"other"`},
			{"Range": "bytes=0-9"},
			{"Range": "bytes=5-"},
			{"Range": "bytes=-4", "Accept-Encoding": "gzip"},
			{"Range": "bytes=999999-"},
			{"Range": "bytes=0-3", "If-Range": etag},
			{"Range": "bytes=0-3", "If-Range": `"other"`},
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for _, hdr := range cases {
				before := cacheHits(t, e.d.StaticRoot)
				a := fetchFull(t, e, method, site(cached)+"/static/"+name, hdr)
				if cacheHits(t, e.d.StaticRoot) == before {
					t.Errorf("%s %s %v: not served from memory", method, name, hdr)
				}
				b := fetchFull(t, e, method, site(plain)+"/static/"+name, hdr)
				if a != b {
					t.Errorf("%s %s %v:\n cached: %s\n  plain: %s", method, name, hdr, a, b)
				}
			}
		}
	}
}

// fetchFull is a response as text: status, headers but Date, body.
func fetchFull(t *testing.T, e *filesEnv, method, url string, hdr map[string]string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Del("Date")
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d %v\n", resp.StatusCode, resp.ContentLength)
	resp.Header.Write(&sb)
	sb.Write(body)
	return sb.String()
}

// cacheHits is the hit counter of the static root dir, from the test
// Caddy's /metrics.
func cacheHits(t *testing.T, dir string) float64 {
	t.Helper()
	m := scrapeMetrics(t, fmt.Sprintf("http://localhost:%d/metrics", filesAdmin))
	return m[`caddy_django_static_cache_hits_total{dir="`+dir+`"}`]
}
