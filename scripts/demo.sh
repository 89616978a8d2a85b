#!/usr/bin/env bash
# Builds Caddy with caddy-django into ./caddy and runs the demo Django project
# (testdata/demo) under it, in the foreground, until Ctrl-C:
#
#   ./scripts/demo.sh              # http://localhost:8080/
#   DEMO_PORT=9000 ./scripts/demo.sh
#   DEMO_DEV=1 ./scripts/demo.sh   # development mode: DEBUG, watch, static finders
#
# Needs Go (1.21+; a newer toolchain named in go.mod is fetched through the Go
# module proxy) and Debian's gunicorn + python3-django, which it installs with
# apt-get when missing (as root, or through sudo). It copies nothing: the demo
# runs in testdata/demo, where it writes db.sqlite3, static_root/ and
# media_root/ (git-ignored). Set DEMO_REBUILD=1 to rebuild ./caddy even when it
# is newer than the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

port=${DEMO_PORT:-8080}
admin=localhost:2019 # as in testdata/demo/Caddyfile
caddyfile=testdata/demo/Caddyfile

. scripts/lib.sh

# 1. Debian packages the demo runs on: /usr/bin/python3 with Django, and
#    /usr/bin/gunicorn (the demo Caddyfile names both).
ensure_pkgs gunicorn python3-django
[ -x /usr/bin/gunicorn ] || die "/usr/bin/gunicorn is missing although the gunicorn package is installed"
/usr/bin/python3 -c 'import django' 2>/dev/null || die "/usr/bin/python3 cannot import django (python3-django)"

# 2. Go. Debian's golang-go is used when no Go is installed; go.mod may name a
#    newer version, which Go 1.21+ downloads as a module (GOTOOLCHAIN=auto).
if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		PATH=/usr/local/go/bin:$PATH
	else
		apt_install golang-go ca-certificates || die "could not install golang-go"
	fi
fi
# (asked outside the module: an old Go would refuse go.mod's version here)
go_minor=$(cd / && GOTOOLCHAIN=local go version | sed -n 's/^go version go1\.\([0-9][0-9]*\).*/\1/p')
if [ -z "$go_minor" ] || [ "$go_minor" -lt 21 ]; then
	die "$(go version) is too old to build Caddy 2.11: install Go $(sed -n 's/^go //p' go.mod) or newer from https://go.dev/dl/ and run this again"
fi
export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
if [ "$GOTOOLCHAIN" = local ]; then
	GOTOOLCHAIN=auto
fi

# 3. Build ./caddy unless it is newer than every source file.
needs_build() {
	[ -n "${DEMO_REBUILD:-}" ] && return 0
	[ -x ./caddy ] || return 0
	[ -n "$(find . \( -path ./testdata -o -path ./bench \) -prune -o \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer ./caddy -print -quit)" ]
}
if needs_build; then
	log=$(mktemp)
	say "building ./caddy (Caddy v2.11.9 + caddy-django) with xcaddy"
	if go tool xcaddy build v2.11.9 \
		--with github.com/caddy-django/caddy-django@v0.0.0=. --output ./caddy >"$log" 2>&1; then
		rm -f "$log"
	else
		say "xcaddy failed (log: $log); building with go build ./cmd/caddy instead"
		go build -o ./caddy ./cmd/caddy || die "go build failed too; xcaddy's log is $log"
	fi
else
	say "./caddy is up to date (DEMO_REBUILD=1 rebuilds it)"
fi
modules=$(./caddy list-modules)
grep -qx django <<<"$modules" || die "./caddy has no django module; remove it and run this again"

# 4. Check the config before starting anything: a Caddy without a module the
#    demo uses (django_files) fails here with Caddy's own message.
export DEMO_ROOT=$repo/testdata/demo
export DEMO_PORT=$port
# development mode: the Caddyfile reads DEMO_DEV as 1 or 0 (DEBUG, watch,
# static finders; docs/development.md)
case ${DEMO_DEV:-0} in
0 | off | false | no) export DEMO_DEV=0 ;;
*) export DEMO_DEV=1 ;;
esac
if ! adapt_err=$(./caddy adapt --config "$caddyfile" --adapter caddyfile 2>&1 >/dev/null); then
	printf '%s\n' "$adapt_err" >&2
	if ! grep -qx http.handlers.django_files <<<"$modules"; then
		die "this build has no django_files handler yet, which $caddyfile uses"
	fi
	die "$caddyfile does not load (see above)"
fi

# 5. Run Caddy in the foreground (it gets Ctrl-C itself and stops everything
#    gracefully). A background helper prints the URL once the site answers.
announce() {
	local caddy_pid=$1 url="http://localhost:$port/"
	for _ in $(seq 1 600); do
		kill -0 "$caddy_pid" 2>/dev/null || return 0
		if /usr/bin/python3 - "$url" <<'EOF' 2>/dev/null; then
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2).read()
except urllib.error.HTTPError:
    pass  # any HTTP answer: the site is up
EOF
			cat >&2 <<EOF

================================================================
 The demo is running: $url
   upload a file, see the worker's heartbeat, try /hello/, /pid/

 In another terminal:
   ./caddy django status                  processes, PIDs, uptime
   ./caddy django restart gunicorn        zero-downtime restart
   ./caddy django signal gunicorn TTIN    one more Gunicorn worker
   ./caddy django reload                  deploy: release + new Gunicorn
   curl -s $admin/django/processes     the admin API's JSON

 Ctrl-C stops Caddy, Gunicorn and the worker.
================================================================

EOF
			if [ "$DEMO_DEV" = 1 ]; then
				cat >&2 <<EOF
 Development mode (DEMO_DEV=1): save testdata/demo/demo/views.py
 and Gunicorn restarts with the new code (0 failed requests); save
 a syntax error and the old code keeps serving, the error in the log
 and in ./caddy django status. Static files come straight from
 testdata/demo/assets (no collectstatic, no-cache).
================================================================

EOF
			fi
			return 0
		fi
		sleep 0.5
	done
	say "the site did not answer at $url within 5 minutes; see Caddy's log above"
}
say "starting Caddy: ./caddy run --config $caddyfile --adapter caddyfile (DEMO_ROOT=$DEMO_ROOT DEMO_DEV=$DEMO_DEV)"
# (started from a subshell, so that it is not a child of Caddy after exec)
(announce "$$" &)
exec ./caddy run --config "$caddyfile" --adapter caddyfile
