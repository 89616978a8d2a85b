package caddydjango

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/klauspost/compress/zstd"
)

// Tests of the precompressing app: the sidecars it writes, and nothing
// written by `caddy validate`.

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
