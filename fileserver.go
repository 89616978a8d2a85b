package caddydjango

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"

	// precompressed sidecar modules used by the static file server
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/encode/brotli"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/encode/gzip"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/encode/zstd"
)

// fsKeySeq makes the names of the filesystems registered per config unique.
var fsKeySeq atomic.Uint64

// fileServer provisions a Caddy file_server for dir. Unless follow is set,
// its filesystem is confined to dir (the rootFS is returned for direct use:
// symlinks may not leave it); precompressed serves .br, .zst and .gz
// sidecars.
func (h *DjangoFiles) fileServer(ctx caddy.Context, dir string, follow, precompressed bool) (*fileserver.FileServer, *rootFS, error) {
	no := false
	srv := &fileserver.FileServer{FileSystem: "default", Root: dir, IndexNames: []string{}, CanonicalURIs: &no}
	var fsys *rootFS
	if !follow {
		fsys = &rootFS{dir: dir}
		srv.FileSystem, srv.Root = h.registerRootFS(fsys), "."
	}
	if precompressed {
		srv.PrecompressedRaw = caddy.ModuleMap{"br": json.RawMessage("{}"), "zstd": json.RawMessage("{}"), "gzip": json.RawMessage("{}")}
		srv.PrecompressedOrder = []string{"br", "zstd", "gzip"}
	}
	return srv, fsys, srv.Provision(ctx)
}

// publicMaxAge is the Cache-Control value for a lifetime.
func publicMaxAge(d time.Duration) string {
	return "public, max-age=" + strconv.FormatInt(int64(d/time.Second), 10)
}

// registerRootFS makes fsys a named Caddy filesystem for a file_server and
// returns its name.
func (h *DjangoFiles) registerRootFS(fsys *rootFS) string {
	key := "django_files_" + strconv.FormatUint(fsKeySeq.Add(1), 10)
	h.fsmap.Register(key, fsys)
	h.fsKeys = append(h.fsKeys, key)
	h.roots = append(h.roots, fsys)
	return key
}

// Header values are set as fresh one-element slices: a shared slice could be
// modified in place by a later handler (e.g. `header` replacements).

// methodNotAllowedErr is the 405 for a method other than GET or HEAD.
func methodNotAllowedErr(w http.ResponseWriter, r *http.Request) error {
	w.Header()["Allow"] = []string{"GET, HEAD"}
	return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed for files", r.Method))
}

// serveRewritten runs srv with the request path set to p, restoring the
// request afterwards.
func serveRewritten(srv *fileserver.FileServer, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, p string) error {
	origPath, origRaw := r.URL.Path, r.URL.RawPath
	r.URL.Path, r.URL.RawPath = p, ""
	err := srv.ServeHTTP(&sendfileWriter{caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}, r, next)
	r.URL.Path, r.URL.RawPath = origPath, origRaw
	return err
}
