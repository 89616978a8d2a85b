package caddydjango

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
)

// Static `alias` and `also`: single static files at other URLs
// (`/favicon.ico`, `/robots.txt`, a service worker at the root), and more
// directories under the static prefix (a project's collected files plus
// data folders), served with the static rules and confined like
// STATIC_ROOT (rootFS): no path, `..` or symlink leaves its directory.

// staticDir is an `also` directory with its file_server.
type staticDir struct {
	dir string
	srv *fileserver.FileServer
}

// provisionStaticExtras checks s's aliases against the site's prefix and
// provisions a confined file_server for each `also` directory.
func (h *DjangoFiles) provisionStaticExtras(ctx caddy.Context, site *staticSite, s *StaticFiles) error {
	for urlPath, file := range s.Aliases {
		if err := checkAlias(urlPath, file); err != nil {
			return err
		}
		if strings.HasPrefix(urlPath, site.prefix) {
			return fmt.Errorf("alias %s: the URL is under the static prefix %s, where static files are served already", urlPath, site.prefix)
		}
	}
	site.aliases = s.Aliases
	for _, d := range s.Also {
		if strings.TrimSpace(d) == "" {
			return fmt.Errorf("also: empty directory")
		}
		dir, err := h.resolveDir("static also", d, "")
		if err != nil {
			return err
		}
		if within(dir, site.dir) || within(site.dir, dir) {
			return fmt.Errorf("also %s overlaps the static root %s", dir, site.dir)
		}
		srv, _, err := h.fileServer(ctx, dir, false, true)
		if err != nil {
			return fmt.Errorf("also %s: provisioning file_server: %v", dir, err)
		}
		site.also = append(site.also, staticDir{dir: dir, srv: srv})
	}
	return nil
}

// checkAlias checks an alias: a plain URL path (not a directory) and a
// file named relative to the static root, inside it.
func checkAlias(urlPath, file string) error {
	rel, ok := strings.CutPrefix(urlPath, "/")
	if !ok || strings.HasSuffix(rel, "/") || strings.ContainsAny(rel, "?#*{}") ||
		!(safeRelName(rel) || validWellKnownName(rel)) {
		return fmt.Errorf("alias %q: want a plain URL path such as /favicon.ico (no dot segments or dotfiles but /.well-known/, not a directory)", urlPath)
	}
	if filepath.IsAbs(file) || strings.HasPrefix(file, "/") || !filepath.IsLocal(file) {
		return fmt.Errorf("alias %s %s: the file is outside STATIC_ROOT; name a file inside it, relative to it (e.g. images/favicon.ico)", urlPath, file)
	}
	if strings.HasSuffix(file, "/") || !safeRelName(file) {
		return fmt.Errorf("alias %s %q: want a file relative to STATIC_ROOT (e.g. images/favicon.ico; no dotfiles, no . or .. segments)", urlPath, file)
	}
	return nil
}

// aliasOf returns the file r's path is an alias of, for a GET or HEAD
// (other methods go on to Django).
func (s *staticSite) aliasOf(r *http.Request) (string, bool) {
	if len(s.aliases) == 0 || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return "", false
	}
	file, ok := s.aliases[r.URL.Path]
	return file, ok
}

// serveStaticAlias serves file, the static file an alias names, with the
// short max-age: the alias's URL stays when the file changes, so it is
// never immutable, even when file is a hashed name.
func (h *DjangoFiles) serveStaticAlias(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, s *staticSite, file string) error {
	return s.serveFile(w, r, next, "/"+file, s.cacheShort)
}

// extrasConflict reports an alias under the media prefix (it would never
// be reached: media is matched first) or an `also` directory that
// overlaps the media root (uploads served without media's protections)
// or the protected root (which has no public URL).
func extrasConflict(s *staticSite, m *mediaSite, p *protectedSite) error {
	if s == nil {
		return nil
	}
	if m != nil {
		for urlPath := range s.aliases {
			if strings.HasPrefix(urlPath, m.prefix) {
				return fmt.Errorf("alias %s is under the media prefix %s, which is matched first", urlPath, m.prefix)
			}
		}
	}
	for _, a := range s.also {
		if m != nil && (within(a.dir, m.dir) || within(m.dir, a.dir)) {
			return fmt.Errorf("also %s overlaps the media root %s: uploads would be served without media's protections", a.dir, m.dir)
		}
		if p != nil && (within(a.dir, p.dir) || within(p.dir, a.dir)) {
			return fmt.Errorf("also %s overlaps the protected root %s: protected files must not have a public URL", a.dir, p.dir)
		}
	}
	return nil
}

// unmarshalStaticExtra reads `alias <url-path> <file>` or `also
// <dir...>` in a static block into s.
func (s *StaticFiles) unmarshalStaticExtra(d *caddyfile.Dispenser) error {
	opt := d.Val()
	args := d.RemainingArgs()
	if opt == "also" {
		if len(args) == 0 {
			return missingValueErr(d, opt, "needs a directory, e.g. also /data/favicons")
		}
		s.Also = append(s.Also, args...)
		return nil
	}
	if len(args) != 2 {
		if len(args) < 2 {
			return missingValueErr(d, opt, "needs a URL path and a file relative to STATIC_ROOT, e.g. alias /favicon.ico images/favicon.ico")
		}
		return d.Errf("alias takes a URL path and a file, got %d values", len(args))
	}
	if err := checkAlias(args[0], args[1]); err != nil {
		return d.Err(err.Error())
	}
	if _, dup := s.Aliases[args[0]]; dup {
		return d.Errf("alias %s is set twice", args[0])
	}
	if s.Aliases == nil {
		s.Aliases = map[string]string{}
	}
	s.Aliases[args[0]] = args[1]
	return nil
}
