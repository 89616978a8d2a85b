package caddydjango

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Tests of the manifest cache and the hash-in-name rule (immutable
// caching of static files), in process.

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

	mustWrite(t, m.path, `{"paths": {"css/app.css": "css/app.111111111111.css"}}`)
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
	mustWrite(t, m.path, `{"paths": {"css/app.css": "css/app.222222222222.css", "js/a.js": "js/a.333333333333.js"}}`)
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
	mustWrite(t, m.path, `{"paths": {"css/app.css": "css/app.4444`)
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
