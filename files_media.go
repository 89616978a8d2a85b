package caddydjango

import (
	"net/http"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
)

// MediaFiles configures serving of user uploads.
type MediaFiles struct {
	// URL prefix (MEDIA_URL). Default: `/media/`.
	URL string `json:"url,omitempty"`

	// Directory (MEDIA_ROOT); relative paths are relative to the django
	// app's root (or Caddy's working directory). Default: `media_root`.
	Root string `json:"root,omitempty"`

	// Do not serve media (requests under the prefix go to Django).
	Disabled bool `json:"disabled,omitempty"`

	// max-age of media files. Default: 1 day.
	MaxAge caddy.Duration `json:"max_age,omitempty"`
}

type mediaSite struct {
	prefix string
	dir    string
	srv    *fileserver.FileServer
	cache  string
}

// inlineMediaExt lists the upload types a browser may display inline: they
// cannot run script. Everything else (HTML, SVG, XML, XHTML, JavaScript,
// unknown types...) is sent as an attachment.
var inlineMediaExt = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".avif": true,
	".bmp": true, ".ico": true, ".apng": true,
	".mp3": true, ".ogg": true, ".oga": true, ".wav": true, ".flac": true, ".m4a": true,
	".aac": true, ".opus": true, ".weba": true,
	".mp4": true, ".m4v": true, ".webm": true, ".ogv": true, ".mov": true,
	".txt": true, ".csv": true, ".pdf": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true,
}

func isInlineMedia(name string) bool {
	ext := filepath.Ext(name)
	if inlineMediaExt[ext] {
		return true
	}
	return inlineMediaExt[strings.ToLower(ext)]
}

func (h *DjangoFiles) serveMedia(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, rel string) error {
	m := h.media
	hdr := w.Header()
	hdr["X-Content-Type-Options"] = []string{"nosniff"}
	hdr["Content-Security-Policy"] = []string{"sandbox"}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowedErr(w, r)
	}
	if !safeRequestPath(rel[1:], r.URL.RawPath) {
		return caddyhttp.Error(http.StatusNotFound, errUnsafePath)
	}
	hdr["Cache-Control"] = []string{m.cache}
	if !isInlineMedia(rel) {
		hdr["Content-Disposition"] = []string{"attachment"}
	}
	typed := setContentType(hdr, rel)
	err := serveRewritten(m.srv, w, r, next, rel)
	if err != nil {
		delete(hdr, "Cache-Control")
		delete(hdr, "Content-Disposition")
		if typed {
			delete(hdr, "Content-Type")
		}
	}
	return err
}
