package caddydjango

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// FuzzManifest reads arbitrary staticfiles.json contents (collectstatic
// writes it, possibly half-written when it is read; a project may write its
// own) and asks about arbitrary names. Property: no panic; a manifest that
// is not one is an error (the previous reading is kept); and the memory
// cache built from any manifest holds only regular files inside the static
// root, whatever names it lists (`..`, absolute paths, symlinks out, NUL,
// dotfiles).
//
// The seeds (below and testdata/fuzz/FuzzManifest) run in the normal suite;
// fuzz beyond them with
//
//	go test -run '^$' -fuzz FuzzManifest -fuzztime 5m .
func FuzzManifest(f *testing.F) {
	for _, seed := range []struct{ manifest, name string }{
		{`{"paths": {"css/app.css": "css/app.554a67f51a76.css"}, "version": "1.1", "hash": "x"}`, "css/app.554a67f51a76.css"},
		{`{"paths": {"css/app.css": "css/app.554a67f51a76.css"}}`, "css/app.111111111111.css"},
		{`{"paths": {"a": "../outside/secret.554a67f51a76.txt", "b": "/etc/passwd", "c": "link.554a67f51a76.txt"}}`, "../outside/secret.554a67f51a76.txt"},
		{`{"paths": {"a": "css/../../outside/secret.554a67f51a76.txt", "b": ".env", "c": "css/app.554a67f51a76.css\u0000"}}`, ".env"},
		{`{"paths": {}}`, "x.554a67f51a76.y"}, {`{"paths": null}`, ""}, {`{"paths": {"a": 1}}`, "a"}, {`{"version": "1.0"}`, "/"},
		{`{"paths": {"css/app.css": "css/app.554a67f51a76.css"`, ".554a67f51a76."}, {`[]`, "a/.554a67f51a76.b"}, {``, "..554a67f51a76.c"},
	} {
		f.Add([]byte(seed.manifest), seed.name)
	}
	base := f.TempDir()
	static := filepath.Join(base, "static")
	public := map[string]bool{}
	for name, content := range map[string]string{
		"css/app.554a67f51a76.css": "public css",
		"js/app.0123456789ab.js":   "public js",
	} {
		mustWrite(f, filepath.Join(static, filepath.FromSlash(name)), content)
		public[content] = true
	}
	mustWrite(f, filepath.Join(base, "outside", "secret.554a67f51a76.txt"), "SECRET outside")
	mustWrite(f, filepath.Join(static, ".env"), "SECRET dotfile")
	mustSymlink(f, filepath.Join(base, "outside", "secret.554a67f51a76.txt"), filepath.Join(static, "link.554a67f51a76.txt"))
	fsys := &rootFS{dir: static}
	f.Cleanup(fsys.close)

	f.Fuzz(func(t *testing.T, data []byte, name string) {
		st, err := parseManifest(data)
		if err != nil {
			return
		}
		if st == nil || !st.present {
			t.Fatalf("parseManifest(%q) = %+v with no error", data, st)
		}
		_ = st.isImmutable(name)
		_ = hasHashInName(name)
		c := newStaticCache(static, fsys, 1<<20, 64<<10, "public, max-age=1, immutable", zap.NewNop())
		defer c.close()
		table := c.build(st)
		for n, cf := range table.files {
			body := string(cf.identity.data)
			if strings.Contains(body, "SECRET") || !public[body] {
				t.Fatalf("manifest %q: the cache holds %q = %q", data, n, body)
			}
		}
		// and it does cache the public hashed files the manifest lists
		for _, n := range []string{"css/app.554a67f51a76.css", "js/app.0123456789ab.js"} {
			if _, listed := st.hashed[n]; listed && table.files[n] == nil {
				t.Fatalf("manifest %q lists %s, the cache lacks it", data, n)
			}
		}
	})
}
