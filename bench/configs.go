//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// djangoBlock is the django app of "our" stack.
func (b *bench) djangoBlock(gport, workers int, release bool) string {
	rel := ""
	if release {
		rel = "\t\trelease /usr/bin/python3 manage.py migrate --noinput\n"
	}
	return fmt.Sprintf(`	django {
		root %s
		env DJANGO_SETTINGS_MODULE demo.settings
%s		gunicorn demo.wsgi:application {
			command /usr/bin/gunicorn
			bind 127.0.0.1:%d
			workers %d
		}
	}
`, b.proj.Root, rel, gport, workers)
}

func globalOptions(admin int, extra string) string {
	return fmt.Sprintf("{\n\tadmin 127.0.0.1:%d\n\tpersist_config off\n%s}\n", admin, extra)
}

// articleSite is the site block of the seed article's Caddyfile (static and
// media with file_server, the rest with reverse_proxy); proxyOpts go inside
// reverse_proxy's block.
func (b *bench) articleSite(port, gport int, proxyOpts string) string {
	rp := fmt.Sprintf("reverse_proxy 127.0.0.1:%d", gport)
	if proxyOpts != "" {
		rp += " {\n\t\t\t" + strings.ReplaceAll(strings.TrimSpace(proxyOpts), "\n", "\n\t\t\t") + "\n\t\t}"
	}
	return fmt.Sprintf(`:%d {
	bind 127.0.0.1
	handle_path /static/* {
		root * %s
		file_server {
			precompressed gzip br
		}
		header Cache-Control "public, max-age=31536000, immutable"
	}
	handle_path /media/* {
		root * %s
		file_server
		header Cache-Control "public, max-age=86400"
	}
	handle {
		%s
	}
}
`, port, b.proj.Static, b.proj.Media, rp)
}

// dfSite is a site served by the django_files handler (proxying to
// Gunicorn on gport) with extra options.
func (b *bench) dfSite(port, gport int, extra string) string {
	return fmt.Sprintf(":%d {\n\tbind 127.0.0.1\n\t%s\n}\n", port, b.df.block(gport, extra))
}

// oursCaddyfile is the Caddy that runs the plugin for sections 1-4 and 6:
// django app + article site (FS) + reverse_proxy with request buffers (RB)
// + reverse_proxy without upstream keep-alive (RK) + django_files sites when
// the handler is built. rev changes a header on
// the RB site only (an unrelated reload).
func (b *bench) oursCaddyfile(workers, rev int) string {
	p := b.ports
	var sb strings.Builder
	sb.WriteString(globalOptions(p.oursAdmin, handoffOption(p.df)+b.djangoBlock(p.gunicorn, workers, true)))
	sb.WriteString(b.articleSite(p.fs, p.gunicorn, ""))
	fmt.Fprintf(&sb, ":%d {\n\tbind 127.0.0.1\n\theader X-Bench-Config %d\n\treverse_proxy 127.0.0.1:%d {\n\t\trequest_buffers 1MB\n\t}\n}\n", p.rb, rev, p.gunicorn)
	fmt.Fprintf(&sb, ":%d {\n\tbind 127.0.0.1\n\treverse_proxy 127.0.0.1:%d {\n\t\ttransport http {\n\t\t\tkeepalive off\n\t\t}\n\t}\n}\n", p.rk, p.gunicorn)
	if b.df.ok {
		sb.WriteString(b.dfSite(p.df, p.gunicorn, ""))
		sb.WriteString(b.dfSite(p.dfSpool, p.gunicorn, dfSpool))
		if b.df.noCache {
			sb.WriteString(b.dfSite(p.dfNoCache, p.gunicorn, dfNoCache))
		}
	}
	// the ceiling of any handler in this Caddy: `respond` with a body of
	// the size of the static file (the gzipped size for the JS)
	for _, c := range []struct {
		port int
		size int64
	}{{p.ceilCSS, b.proj.cssSize}, {p.ceilJS, b.proj.jsGzSize}} {
		fmt.Fprintf(&sb, ":%d {\n\tbind 127.0.0.1\n\trespond %q 200\n}\n", c.port, strings.Repeat("x", int(c.size)))
	}
	return sb.String()
}

// bootCaddyfile is the config of the startup/memory comparison: the django
// app and one site, no release commands (the article runs them at image
// build time).
func (b *bench) bootCaddyfile(admin, gport, site int) string {
	s := b.articleSite(site, gport, "")
	if b.df.ok {
		s = b.dfSite(site, gport, "")
	}
	return globalOptions(admin, b.djangoBlock(gport, 3, false)) + s
}

// controlCaddyfile is a Caddy without the plugin: `respond` on R and a
// reverse_proxy to the standalone (WhiteNoise) Gunicorn on P.
func controlCaddyfile(admin, r, p, upstream, rev int) string {
	return globalOptions(admin, "") + fmt.Sprintf(`:%d {
	bind 127.0.0.1
	header X-Bench-Config %d
	respond "hello from caddy" 200
}
:%d {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:%d
}
`, r, rev, p, upstream)
}

// supervisorFiles writes the seed article's supervisord.conf and Caddyfile
// (with this run's paths and ports) into dir and returns the conf path.
func (b *bench) supervisorFiles(dir string, admin, site, gport int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// the article's five header_up lines
	caddyfile := globalOptions(admin, "") + b.articleSite(site, gport, `header_up Host {host}
header_up X-Forwarded-Proto {scheme}
header_up X-Forwarded-For {remote_host}
header_up X-Real-IP {remote_host}
header_up X-Forwarded-Host {host}`)
	cf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cf, []byte(caddyfile), 0o644); err != nil {
		return "", err
	}
	conf := fmt.Sprintf(`[unix_http_server]
file=%[1]s/supervisor.sock

[supervisord]
nodaemon=true
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
loglevel=info

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/supervisor.sock

[program:gunicorn]
command=/usr/bin/gunicorn --bind 127.0.0.1:%[2]d --workers 3 demo.wsgi:application
directory=%[3]s
stdout_logfile=%[1]s/gunicorn.log
redirect_stderr=true
autorestart=true
startretries=3

[program:caddy]
command=%[4]s run --config %[5]s --adapter caddyfile
stdout_logfile=%[1]s/caddy.log
redirect_stderr=true
autorestart=true
startretries=3
`, dir, gport, b.proj.Root, b.caddyBin, cf)
	path := filepath.Join(dir, "supervisord.conf")
	return path, os.WriteFile(path, []byte(conf), 0o644)
}

// nginxConf writes an nginx config (1 worker) serving static and media.
func (b *bench) nginxConf(dir string, port int) (string, error) {
	for _, d := range []string{"tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // the work directory is private to us
	}
	name, _, _ := strings.Cut(b.ps.marker, "=")
	conf := fmt.Sprintf(`%sworker_processes 1;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log warn;
env %[3]s;
events { worker_connections 4096; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log off;
	sendfile on;
	tcp_nopush on;
	client_body_temp_path %[2]s/tmp/body;
	proxy_temp_path %[2]s/tmp/proxy;
	fastcgi_temp_path %[2]s/tmp/fastcgi;
	uwsgi_temp_path %[2]s/tmp/uwsgi;
	scgi_temp_path %[2]s/tmp/scgi;
	server {
		listen 127.0.0.1:%[4]d;
		location /static/ {
			alias %[5]s/;
			gzip_static on;
			add_header Cache-Control "public, max-age=31536000, immutable";
		}
		location /media/ {
			alias %[6]s/;
		}
	}
}
`, user, dir, name, port, b.proj.Static, b.proj.Media)
	path := filepath.Join(dir, "nginx.conf")
	return path, os.WriteFile(path, []byte(conf), 0o644)
}
