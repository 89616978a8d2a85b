package caddydjango

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// django_files' static and media sites, from the Caddyfile, from the
// project's settings (settings_discovery.go) or from the defaults.
//
// With the django app, a path the Caddyfile does not set comes from the
// settings, which the app reads in its Start, after this handler was
// provisioned: the sites are built then (and again after a deploy) and
// swapped in atomically. Until the first reading is in, requests wait for
// it (up to wait_timeout, as they wait for Gunicorn): without it, a request
// under the project's STATIC_URL would be proxied to Django and one under
// /static/ would get a wrong 404.

// Where a path in effect came from.
const (
	fromCaddyfile = "caddyfile"
	fromSettings  = "settings"
	fromDefault   = "default"
)

// fileSites are the static, media and root files sites in effect (nil:
// not served).
type fileSites struct {
	static    *staticSite
	media     *mediaSite
	rootFiles *rootFilesSite
}

// siteSwitch holds a handler's sites in effect and what the status shows.
type siteSwitch struct {
	ctx       caddy.Context // to provision file servers after Provision
	fixed     bool          // every path is in the Caddyfile: built in Provision
	live      atomic.Pointer[fileSites]
	report    atomic.Pointer[FilesReport]
	ready     chan struct{} // closed once live is set
	readyOnce sync.Once
	mu        sync.Mutex // building sites; closed
	closed    bool
}

// FilesReport is what a django_files handler serves from where (the admin
// API's `GET /django/files`).
type FilesReport struct {
	App    string      `json:"app,omitempty"`
	Static *FilesPaths `json:"static"`
	Media  *FilesPaths `json:"media"`
	// Files at the site root (root_files, or WHITENOISE_ROOT); nil: none.
	RootFiles *FilesPaths `json:"root_files,omitempty"`
}

// FilesPaths is where one kind of file is served from, and where each
// value came from: caddyfile, settings or default.
type FilesPaths struct {
	Served   bool   `json:"served"`
	URL      string `json:"url,omitempty"`
	URLFrom  string `json:"url_from,omitempty"`
	Dir      string `json:"dir,omitempty"`
	DirFrom  string `json:"dir_from,omitempty"`
	Manifest string `json:"manifest,omitempty"`
	// The bucket media come from instead of Dir (`s3://name/prefix`),
	// where it came from (caddyfile or settings), and its endpoint (empty:
	// AWS's). Credentials are never shown.
	Bucket   string `json:"bucket,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	// what the settings' bucket client is built from (bucket_settings.go):
	// a deploy that changes only its credentials rebuilds it too
	bucketKey string
	// Why the files are not served by Caddy (requests go to Django).
	Reason string `json:"reason,omitempty"`
	// Finders: static files are served from these directories, in this
	// order (`static { finders }`; DirFrom is "finders").
	Finders []FinderDir `json:"finders,omitempty"`
}

// provisionFiles sets up static, media and root files serving. Without
// the django app, or with every path in the Caddyfile, the sites are built now;
// otherwise the options are checked now and the sites are built once the
// app has read the project's settings (applySettings).
func (h *DjangoFiles) provisionFiles(ctx caddy.Context) error {
	h.sites = &siteSwitch{ctx: ctx, ready: make(chan struct{})}
	st, md := h.staticOptions(), h.mediaOptions()
	// nothing left to the settings: each kind off, or both paths set
	if st.Finders && !st.Disabled && h.app == nil {
		return fmt.Errorf("static: finders needs the django app (the finders' directories are read from the project's settings)")
	}
	h.sites.fixed = h.app == nil || ((st.Disabled || st.URL != "" && st.Root != "" && !st.Finders) &&
		(md.Disabled || md.URL != "" && (md.Root != "" || md.Bucket != nil)) && h.RootFiles != nil)
	if h.sites.fixed {
		for _, step := range []func(caddy.Context) error{h.provisionStatic, h.provisionMedia, h.provisionRootFiles} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		if err := extrasConflict(h.static, h.media, nil); err != nil { // protected: provisionProtected
			return fmt.Errorf("static: %v", err)
		}
		h.setSites(&fileSites{static: h.static, media: h.media, rootFiles: h.rootFiles}, h.fixedReport())
	} else {
		// root_files from the Caddyfile; its overlap with a media root
		// from the settings is checked in buildSites
		if err := h.provisionRootFiles(ctx); err != nil {
			return err
		}
		if err := h.checkFiles(ctx); err != nil {
			return err
		}
	}
	if h.app != nil {
		h.app.watchSettings(h)
	}
	return nil
}

// checkFiles checks the static and media options (so that `caddy
// validate` reports them) without registering anything for compression.
func (h *DjangoFiles) checkFiles(ctx caddy.Context) error {
	s := h.staticOptions()
	if len(s.Compress) > 0 {
		if _, err := compressEncodings(s.Compress); err != nil {
			return fmt.Errorf("static: %v", err)
		}
		// instantiated now: an app made after Start would never start
		if _, err := ctx.App(compressorAppID); err != nil {
			return fmt.Errorf("static: compressor: %v", err)
		}
		s.Compress = nil
	}
	site, err := h.newStaticSite(ctx, &s)
	if err != nil {
		return fmt.Errorf("static: %v", err)
	}
	site.close() // only checked: its cache must not count in the metrics
	m := h.mediaOptions()
	var dir string
	if m.Bucket == nil {
		dir, err = h.resolveDir("media root", m.Root, "media_root")
	}
	if err == nil {
		_, err = h.newMediaSite(ctx, &m, dir)
	}
	if err != nil {
		return fmt.Errorf("media: %v", err)
	}
	return nil
}

func (h *DjangoFiles) staticOptions() StaticFiles {
	if h.Static == nil {
		return StaticFiles{}
	}
	return *h.Static
}

func (h *DjangoFiles) mediaOptions() MediaFiles {
	if h.Media == nil {
		return MediaFiles{}
	}
	return *h.Media
}

// setSites puts sites in effect and releases the requests waiting for
// them.
func (h *DjangoFiles) setSites(sites *fileSites, report *FilesReport) {
	h.sites.live.Store(sites)
	h.sites.report.Store(report)
	h.sites.readyOnce.Do(func() { close(h.sites.ready) })
}

// currentSites returns the sites in effect, waiting (up to wait_timeout or
// the request's end) for the first reading of the settings; nil when
// they are not known by then.
func (h *DjangoFiles) currentSites(ctx context.Context) *fileSites {
	if s := h.sites.live.Load(); s != nil {
		return s
	}
	t := time.NewTimer(durationOr(h.WaitTimeout, defaultWaitTimeout))
	defer t.Stop()
	select {
	case <-h.sites.ready:
		return h.sites.live.Load()
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// closeSites keeps applySettings from building sites for a handler that
// is cleaned up.
func (h *DjangoFiles) closeSites() {
	if h.sites == nil {
		return
	}
	h.sites.mu.Lock()
	h.sites.closed = true
	h.sites.mu.Unlock()
	h.sites.live.Load().closeBuilt(h.static)
}

// applySettings takes a reading of the project's settings (st.Settings is
// nil when it failed): it warns where the Caddyfile disagrees with the
// settings and, unless every path is in the Caddyfile, builds the sites
// from the paths in effect and swaps them in.
func (h *DjangoFiles) applySettings(st *SettingsStatus) {
	h.sites.mu.Lock()
	defer h.sites.mu.Unlock()
	if h.sites.closed {
		return
	}
	set := st.Settings
	sp := h.resolvePaths(staticKind, set)
	mp := h.resolvePaths(mediaKind, set)
	if set != nil && set.Manifest && set.ManifestName != "" && sp.Served {
		sp.Manifest = h.manifestPath(sp.Dir, set.ManifestName)
	}
	if st := h.staticOptions(); st.Finders && !st.Disabled {
		sp = h.finderPaths(set)
	}
	h.hintFinders(sp)
	report := &FilesReport{App: h.App, Static: sp, Media: mp, RootFiles: h.resolveRootFiles(set)}
	if h.sites.fixed {
		report.Static.Manifest = ""
		h.setSites(h.sites.live.Load(), report)
		return
	}
	if prev := h.sites.report.Load(); prev != nil && samePaths(prev, report) {
		h.setSites(h.sites.live.Load(), prev) // a deploy that changed no path
		return
	}
	prev := h.sites.live.Load()
	h.setSites(h.buildSites(report, set), report)
	prev.closeBuilt(h.static)
}

// manifestPath is where the manifest named by the staticfiles storage's
// manifest_name lies in STATIC_ROOT dir; "" (with a warning) for a name
// that would leave it, which Django's storage refuses too
// (SuspiciousFileOperation): then no manifest is read.
func (h *DjangoFiles) manifestPath(dir, name string) string {
	if !safeRelName(name) || strings.HasSuffix(name, "/") {
		h.logger.Warn("django_files: the staticfiles storage's manifest_name is not a file name inside STATIC_ROOT; no manifest is read",
			zap.String("manifest_name", name), zap.String("static_root", dir))
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}

// closeBuilt releases what the static site built from the settings holds
// (its in-memory cache) once it is no longer in effect; keep is the
// Caddyfile's own site, closed by Cleanup.
func (s *fileSites) closeBuilt(keep *staticSite) {
	if s != nil && s.static != nil && s.static != keep {
		s.static.close()
	}
}

// samePaths reports whether a and b serve the same files from the same
// places.
func samePaths(a, b *FilesReport) bool {
	return reflect.DeepEqual(a.Static, b.Static) && reflect.DeepEqual(a.Media, b.Media) && reflect.DeepEqual(a.RootFiles, b.RootFiles)
}

// buildSites provisions the sites for the paths in effect (set: the
// settings they came from, nil when unread); one that cannot be built (or
// that collides with another) is not served, and says why in the status.
func (h *DjangoFiles) buildSites(report *FilesReport, set *DjangoSettings) *fileSites {
	sp, mp, rp := report.Static, report.Media, report.RootFiles
	sites := &fileSites{rootFiles: h.rootFiles}
	ctx := h.sites.ctx
	if sp.Served && sp.DirFrom == fromFinders {
		site, err := h.newFinderSite(ctx, sp)
		if err == nil {
			sites.static = site
		}
		h.notServed(sp, err)
	} else if sp.Served {
		s := h.staticOptions()
		s.URL, s.Root = sp.URL, sp.Dir
		site, err := h.newStaticSite(ctx, &s)
		if err == nil {
			if sp.Manifest != "" {
				site.manifest.path = sp.Manifest
			}
			if site.compressor != nil {
				site.compressor.trigger(site.dir)
			}
			sites.static = site
		}
		h.notServed(sp, err)
	}
	if mp.Served {
		m := h.mediaOptions()
		m.URL, m.Root = mp.URL, mp.Dir
		if mp.Bucket != "" && mp.DirFrom == fromSettings {
			m.Bucket = set.MediaBucket.config()
		}
		site, err := h.newMediaSite(ctx, &m, mp.Dir)
		if err == nil && sites.static != nil && (sites.static.prefix == site.prefix || sites.static.dir == site.dir && site.bucket == nil) {
			err = fmt.Errorf("static and media share a URL prefix or directory (%s %s, %s %s)", sites.static.prefix, sites.static.dir, site.prefix, site.dir)
		}
		if err == nil {
			sites.media = site
		}
		h.notServed(mp, err)
	}
	if err := extrasConflict(sites.static, sites.media, h.protected); err != nil {
		sites.static.close()
		sites.static = nil
		h.notServed(sp, err)
	}
	if rp != nil && rp.Served && rp.DirFrom == fromSettings {
		site, err := h.newRootFilesSite(ctx, rp.Dir, defaultStaticMaxAge)
		if err == nil {
			sites.rootFiles = site
		}
		h.notServed(rp, err)
	}
	if sites.rootFiles != nil {
		if err := mediaOverlap(sites.rootFiles.dir, sites.media); err != nil {
			sites.rootFiles = nil
			if rp != nil {
				h.notServed(rp, err)
			} else {
				h.logger.Error("root files not served", zap.Error(err))
			}
		}
	}
	if p := h.protected; p != nil && p.bucket != nil && sites.media != nil && bucketsOverlap(p.bucket, sites.media.bucket) {
		sites.media = nil
		h.notServed(mp, fmt.Errorf("the media bucket %s overlaps the protected bucket %s: protected files must not have a public URL", mp.Bucket, p.bucket.desc))
	}
	if p := h.protected; p != nil && p.bucket == nil {
		for _, kp := range []struct {
			paths *FilesPaths
			drop  func()
		}{{sp, func() { sites.static = nil }}, {mp, func() { sites.media = nil }}, {rp, func() { sites.rootFiles = nil }}} {
			if kp.paths != nil && kp.paths.Served && (within(kp.paths.Dir, p.dir) || within(p.dir, kp.paths.Dir)) {
				kp.drop()
				h.notServed(kp.paths, fmt.Errorf("%s overlaps the protected root %s: protected files must not have a public URL", kp.paths.Dir, p.dir))
			}
		}
	}
	return sites
}

// notServed records (and logs) err as the reason p's files are not served.
func (h *DjangoFiles) notServed(p *FilesPaths, err error) {
	if err == nil {
		return
	}
	p.Served, p.Reason = false, err.Error()
	h.logger.Error("django_files cannot serve these files; requests for them go to Django",
		zap.String("url", p.URL), zap.String("dir", p.Dir), zap.Error(err))
}

// fileKind names what differs between static and media when resolving
// their paths.
type fileKind struct {
	name, urlSetting, rootSetting, defURL, defRoot string
	options                                        func(*DjangoFiles) (url, root string, disabled bool)
	settings                                       func(*DjangoSettings) (url, root string)
}

var (
	staticKind = fileKind{"static", "STATIC_URL", "STATIC_ROOT", defaultStaticURL, "static_root",
		func(h *DjangoFiles) (string, string, bool) { s := h.staticOptions(); return s.URL, s.Root, s.Disabled },
		func(s *DjangoSettings) (string, string) { return s.StaticURL, s.StaticRoot }}
	mediaKind = fileKind{"media", "MEDIA_URL", "MEDIA_ROOT", defaultMediaURL, "media_root",
		func(h *DjangoFiles) (string, string, bool) {
			m := h.mediaOptions()
			if m.Bucket != nil {
				return m.URL, m.Bucket.String(), m.Disabled
			}
			return m.URL, m.Root, m.Disabled
		},
		func(s *DjangoSettings) (string, string) {
			if b := s.MediaBucket; b != nil && b.Bucket != "" {
				return s.MediaURL, b.url()
			}
			return s.MediaURL, s.MediaRoot
		}}
)

// resolvePaths decides kind's URL prefix and directory: the Caddyfile's
// (with a warning when the settings say otherwise), else the settings'
// (set nil: they could not be read), else the defaults. An absolute URL
// in the settings (a CDN, a bucket) or an unset one means Caddy does not
// serve these files.
func (h *DjangoFiles) resolvePaths(k fileKind, set *DjangoSettings) *FilesPaths {
	url, root, disabled := k.options(h)
	if disabled {
		return &FilesPaths{URLFrom: fromCaddyfile, Reason: k.name + " is off in the Caddyfile"}
	}
	var sURL, sRoot string
	if set != nil {
		sURL, sRoot = k.settings(set)
	}
	p := &FilesPaths{Served: true}
	p.URL, p.URLFrom = pick(url, sURL, k.defURL, set != nil)
	p.Dir, p.DirFrom = pick(root, sRoot, k.defRoot, set != nil)
	if url != "" && set != nil && normalizeURL(url) != normalizeURL(sURL) {
		h.warnOverride(k.name+" URL", url, k.urlSetting, sURL)
	}
	if strings.HasPrefix(p.Dir, "s3://") { // media from a bucket
		p.Bucket, p.Dir = p.Dir, ""
		if p.DirFrom == fromSettings {
			p.Endpoint, p.bucketKey = set.MediaBucket.Endpoint, set.MediaBucket.key()
		} else {
			p.Endpoint = h.mediaOptions().Bucket.Endpoint
		}
	} else if k.name == mediaKind.name && p.DirFrom == fromSettings && set.MediaStorageError != "" {
		p.Served, p.Reason = false, "the default storage (django-storages' S3 backend) cannot be read: "+set.MediaStorageError
		return p
	}
	if p.Dir != "" {
		dir, err := h.resolveDir(k.name+" root", p.Dir, "")
		if err != nil {
			p.Served, p.Reason = false, err.Error()
			return p
		}
		p.Dir = dir
	}
	if root != "" && set != nil && sRoot != "" && (p.Bucket != "" || strings.HasPrefix(sRoot, "s3://")) {
		if b := p.Dir + p.Bucket; b != sRoot {
			h.warnOverride(k.name+" root", b, k.rootSetting, sRoot)
		}
	} else if root != "" && set != nil && sRoot != "" {
		if sDir, err := h.resolveDir(k.name+" root", sRoot, ""); err == nil && sDir != p.Dir {
			h.warnOverride(k.name+" root", p.Dir, k.rootSetting, sDir)
		}
	}
	switch {
	case p.URL == "":
		p.Served, p.Reason = false, k.urlSetting+" is not set"
	case isAbsoluteURL(p.URL):
		p.Served, p.Reason = false, k.urlSetting+" is absolute: served elsewhere"
	case p.Dir == "" && p.Bucket == "":
		p.Served, p.Reason = false, k.rootSetting+" is not set"
	default:
		u, err := normalizePrefix(p.URL, "")
		if err != nil {
			p.Served, p.Reason = false, err.Error()
		}
		p.URL = u
	}
	return p
}

// resolveRootFiles decides the directory served at the site root: the
// Caddyfile's root_files (with a warning when WHITENOISE_ROOT says
// otherwise), else WHITENOISE_ROOT; nil when there is none.
func (h *DjangoFiles) resolveRootFiles(set *DjangoSettings) *FilesPaths {
	var sRoot string
	if set != nil && set.WhitenoiseRoot != "" {
		sRoot, _ = h.resolveDir("WHITENOISE_ROOT", set.WhitenoiseRoot, "")
	}
	rf := h.RootFiles
	switch {
	case rf != nil && rf.Disabled:
		return &FilesPaths{URLFrom: fromCaddyfile, Reason: "root_files is off in the Caddyfile"}
	case h.rootFiles != nil:
		if sRoot != "" && sRoot != h.rootFiles.dir {
			h.warnOverride("root_files", h.rootFiles.dir, "WHITENOISE_ROOT", sRoot)
		}
		return &FilesPaths{Served: true, URL: "/", URLFrom: fromCaddyfile, Dir: h.rootFiles.dir, DirFrom: fromCaddyfile}
	case sRoot != "":
		return &FilesPaths{Served: true, URL: "/", URLFrom: fromSettings, Dir: sRoot, DirFrom: fromSettings}
	}
	return nil
}

// pick returns the Caddyfile's value, else the settings' (when they were
// read), else the default, and where it came from.
func pick(caddyfile, settings, def string, read bool) (string, string) {
	switch {
	case caddyfile != "":
		return caddyfile, fromCaddyfile
	case read:
		return settings, fromSettings
	}
	return def, fromDefault
}

func isAbsoluteURL(u string) bool {
	return strings.Contains(u, "://") || strings.HasPrefix(u, "//")
}

// normalizeURL is u as a URL prefix (a trailing slash) for comparison.
func normalizeURL(u string) string {
	if n, err := normalizePrefix(u, ""); err == nil {
		return n
	}
	return u
}

// warnOverride logs that the Caddyfile's value wins over the settings'.
func (h *DjangoFiles) warnOverride(what, caddyfile, setting, settings string) {
	h.logger.Warn("django_files: the Caddyfile's "+what+" differs from the project's "+setting+"; the Caddyfile's is used",
		zap.String("caddyfile", caddyfile), zap.String(strings.ToLower(setting), settings))
}

// fixedReport is the status of a handler whose paths are all in the
// Caddyfile, or that has no django app.
func (h *DjangoFiles) fixedReport() *FilesReport {
	r := &FilesReport{App: h.App}
	r.Static = siteReport(h.Static != nil && h.Static.Disabled, h.static != nil, func() (string, string) { return h.static.prefix, h.static.dir },
		h.staticOptions().URL, h.staticOptions().Root)
	r.Media = siteReport(h.Media != nil && h.Media.Disabled, h.media != nil, func() (string, string) { return h.media.prefix, h.media.dir },
		h.mediaOptions().URL, h.mediaOptions().Root)
	if h.media != nil && h.media.bucket != nil {
		r.Media.Dir, r.Media.Bucket, r.Media.Endpoint = "", h.media.bucket.desc, h.Media.Bucket.Endpoint
	}
	r.RootFiles = h.resolveRootFiles(nil)
	return r
}

func siteReport(disabled, served bool, paths func() (string, string), url, root string) *FilesPaths {
	if disabled || !served {
		return &FilesPaths{URLFrom: fromCaddyfile, Reason: "off in the Caddyfile"}
	}
	p := &FilesPaths{Served: true, URLFrom: fromDefault, DirFrom: fromDefault}
	p.URL, p.Dir = paths()
	if url != "" {
		p.URLFrom = fromCaddyfile
	}
	if root != "" {
		p.DirFrom = fromCaddyfile
	}
	return p
}

// FilesStatus is the admin API's `GET /django/files`: the reading of the
// project's settings and, per django_files handler, the paths in effect.
type FilesStatus struct {
	Settings *SettingsStatus `json:"settings"`
	Handlers []*FilesReport  `json:"handlers"`
}

// FilesStatus reports the settings and the paths every django_files
// handler of this config serves.
func (a *App) FilesStatus() FilesStatus {
	out := FilesStatus{Settings: a.SettingsStatus(), Handlers: []*FilesReport{}}
	for _, h := range a.settingsHandlers() {
		if r := h.sites.report.Load(); r != nil {
			out.Handlers = append(out.Handlers, r)
		}
	}
	return out
}
