package caddydjango

import (
	"fmt"
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

	// Paths inside the media root (relative to it, e.g. `invoices`) that
	// are never served: a hidden folder, everything under it, or a file is
	// a 404 exactly like a missing file, however the request spells it
	// (percent-encoding, any case) and also through symlinks inside the
	// media root that lead into it. Default: none.
	Hide []string `json:"hide,omitempty"`

	// Content-Disposition of media files: `auto` (inline for plain images,
	// audio, video, fonts, PDF and text, `attachment` for every other type)
	// or `attachment` (every file is a download, with its name as
	// `filename`, and `filename*` when it is not ASCII). Default: `auto`.
	Disposition string `json:"disposition,omitempty"`

	// An S3-compatible bucket media are served from instead of a directory
	// (not with root): the upload `a/b.png` is the object
	// `<prefix>/a/b.png`, served with every rule above, one bucket request
	// per client request. Default: none; with the django app, the bucket
	// of django-storages' S3 backend when it is the default storage.
	Bucket *BucketConfig `json:"bucket,omitempty"`
}

// mediaSite is the provisioned media configuration.
type mediaSite struct {
	prefix     string
	dir        string // "" for a bucket
	srv        *fileserver.FileServer
	bucket     *bucketSource // media from a bucket (no dir, no srv)
	hide       *hideList
	cache      string
	attachment bool // disposition attachment: every file a download
}

// provisionMedia sets up serving of uploads unless it is disabled; static
// and media may not share a URL prefix or a directory.
func (h *DjangoFiles) provisionMedia(ctx caddy.Context) error {
	m := h.Media
	if m == nil {
		m = new(MediaFiles)
	}
	if m.Disabled {
		return nil
	}
	var dir string
	var err error
	if m.Bucket == nil {
		if dir, err = h.resolveDir("media root", m.Root, "media_root"); err != nil {
			return fmt.Errorf("media: %v", err)
		}
	}
	site, err := h.newMediaSite(ctx, m, dir)
	if err != nil {
		return fmt.Errorf("media: %v", err)
	}
	h.media = site
	if h.static != nil {
		if h.static.prefix == site.prefix {
			return fmt.Errorf("static and media use the same URL prefix %s", site.prefix)
		}
		if site.bucket == nil && h.static.dir == site.dir {
			return fmt.Errorf("static and media use the same directory %s", site.dir)
		}
	}
	return nil
}

// newMediaSite checks m and provisions its file_server for the media root
// dir (absolute; m.Root is not looked at), or its client for m.Bucket; hide
// paths are relative to dir (the key prefix).
func (h *DjangoFiles) newMediaSite(ctx caddy.Context, m *MediaFiles, dir string) (*mediaSite, error) {
	site := &mediaSite{dir: dir}
	var err error
	if m.Bucket != nil && m.Root != "" {
		return nil, fmt.Errorf("root %s and bucket %s are both set: media come from one of them", m.Root, m.Bucket)
	}
	if site.prefix, err = normalizePrefix(m.URL, defaultMediaURL); err != nil {
		return nil, err
	}
	hide, err := newHideList(m.Hide)
	if err != nil {
		return nil, err
	}
	if site.attachment, err = parseDisposition(m.Disposition); err != nil {
		return nil, err
	}
	maxAge := durationOr(m.MaxAge, defaultMediaMaxAge)
	if maxAge < 0 {
		return nil, fmt.Errorf("max_age must not be negative")
	}
	site.cache = publicMaxAge(maxAge)
	site.hide = hide
	if m.Bucket != nil {
		site.dir = ""
		if site.bucket, err = h.newBucketSource(m.Bucket); err != nil {
			return nil, fmt.Errorf("bucket: %v", err)
		}
		return site, nil
	}
	var fsys *rootFS
	if site.srv, fsys, err = h.fileServer(ctx, site.dir, false, false); err != nil {
		return nil, fmt.Errorf("provisioning file_server: %v", err)
	}
	fsys.hide = hide
	return site, nil
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

// isInlineMedia reports whether an upload named name may be shown inline.
func isInlineMedia(name string) bool {
	ext := filepath.Ext(name)
	if inlineMediaExt[ext] {
		return true
	}
	return inlineMediaExt[strings.ToLower(ext)]
}

// serveMedia serves rel (the request path without the prefix, with a
// leading slash) from m's MEDIA_ROOT, so that it cannot run script on the site.
func (h *DjangoFiles) serveMedia(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, m *mediaSite, rel string) error {
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
	if cd := m.contentDisposition(rel); cd != "" {
		hdr["Content-Disposition"] = []string{cd}
	}
	typed := setContentType(hdr, rel)
	var err error
	if m.bucket != nil {
		err = m.serveObject(w, r, rel[1:])
	} else {
		err = serveRewritten(m.srv, w, r, next, rel)
	}
	if err != nil {
		delete(hdr, "Cache-Control")
		delete(hdr, "Content-Disposition")
		if typed {
			delete(hdr, "Content-Type")
		}
	}
	return err
}

// serveObject serves name from the media bucket: hidden names and
// directories (no listings) are 404 without asking the bucket.
func (m *mediaSite) serveObject(w http.ResponseWriter, r *http.Request, name string) error {
	if strings.HasSuffix(name, "/") || m.hide.hidesName(name) {
		return caddyhttp.Error(http.StatusNotFound, errUnsafePath)
	}
	return m.bucket.serveObject(w, r, name)
}
