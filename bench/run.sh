#!/usr/bin/env bash
# caddy-django benchmark: one command, everything in one run, ratios measured
# side by side on this machine.
#
#   bench/run.sh                 # full run (< 10 minutes on 2 cores)
#   BENCH_ROUNDS=7 bench/run.sh  # alternating rounds (default 5; media and startup use at most 3)
#   BENCH_DURATION=5s ...        # wrk duration per measurement (default 3s)
#   CADDY=/path/to/caddy ...     # use this binary instead of building ./cmd/caddy
#   BENCH_KEEP=1 ...             # keep the work directory (logs, configs, profiles)
#   BENCH_PPROF=1 ...            # always take CPU profiles of the django_files rows
#   BENCH_SECTIONS=static ...    # only §1 (static files, with the `respond` ceiling and the cache's memory)
#   BENCH_SECTIONS=handoff ...   # only §8: django_handoff's throughput cost and CPU share (about 3 minutes)
#   BENCH_SECTIONS=appservers ... # only §9: each app server (gunicorn, uvicorn, hypercorn, daphne,
#                                uwsgi) through django_files vs reverse_proxy vs direct, and failed
#                                POSTs during restart and deploy (about 8 minutes)
#   BENCH_SECTIONS=media ...     # only §10: media from an S3 bucket (versitygw) through django_files vs a
#                                presigned GET to the same server vs a local directory, on the same box
#                                and with the bucket "on its own machine" (a network namespace on its own
#                                CPU behind a rate-limited veth link; needs root and ip/tc), bucket
#                                requests per client request, Caddy's memory under 50 downloads (about
#                                3 minutes)
#   BENCH_LINK_RATE=2gbit ...    # §10: that link's rate (tc's form; default 2gbit; off: same box only)
#   BENCH_CADDY_BASE=/path/caddy # §10: another build (e.g. main's) beside this one over that link, in the
#                                same rounds: a before / after of the proxied path's req/s and CPU
#   BENCH_SECTIONS=guards ...    # only §11: the cost of max_memory and timeout on the proxied /hello/,
#                                and failed POSTs during 20 memory recycles under load (about 4 minutes)
#   BENCH_HANDOFF_AA=1 ...       # §8 as a control: neither Caddy has the wrapper (the noise floor)
#   BENCH_SECTIONS=scale ...     # only §12: how the cost grows (idle websockets, slow uploads, supervised
#                                processes, manifest files; about 15 minutes); its points can be changed:
#                                BENCH_SCALE_WS="1000 5000 10000" BENCH_SCALE_UPLOADS="50 200 500"
#                                BENCH_SCALE_PROCS="10 50 200" BENCH_SCALE_FILES="1000 10000 50000" ("0": skip)
#
# It installs what is missing (apt-get: wrk nginx-light supervisor
# python3-whitenoise gunicorn python3-django), starts every server itself on
# 127.0.0.1 with fresh ports, and stops every process it started on exit
# (Ctrl-C included). Results go to stdout; docs/benchmarks.md explains them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '[bench] %s\n' "$*" >&2; }

# --- dependencies -----------------------------------------------------------
. scripts/lib.sh
ensure_pkgs wrk supervisor gunicorn python3-django python3-whitenoise \
	python3-uvicorn python3-websockets python3-hypercorn daphne uwsgi uwsgi-plugin-python3
# any one of Debian's nginx packages will do
nginx_pkgs=(nginx-light nginx-core nginx-full nginx-extras nginx)
if [ "$(missing_pkgs "${nginx_pkgs[@]}" | wc -l)" -eq ${#nginx_pkgs[@]} ]; then
	# nginx-light is a transitional package on newer Debian: fall back to nginx
	apt_install nginx-light || apt_install nginx || die "could not install nginx"
fi
command -v go >/dev/null 2>&1 || { log "go is required (to build Caddy and the bench driver)"; exit 1; }

# §12 holds 10,000 websockets: every process gets the most files the hard
# limit allows (Go raises its own soft limit; Python app servers do not)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- work directory and cleanup -----------------------------------------------
W=$(mktemp -d /tmp/caddy-django-bench.XXXXXX)
chmod 755 "$W"
BENCH_PID=
# Every process the driver starts carries CADDY_DJANGO_BENCH=$W in its
# environment (nginx keeps it with an `env` directive), so a final sweep can
# find exactly our processes, even orphans, and kill them by pid.
sweep() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$$" ] && continue
		if { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qxF "CADDY_DJANGO_BENCH=$W"; then
			kill -KILL "$p" 2>/dev/null || true
		fi
	done
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
		kill -TERM "$BENCH_PID" 2>/dev/null || true # the driver stops its servers gracefully
		for _ in $(seq 1 100); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.2; done
	fi
	sweep
	# §10's network namespace and veth pair, named after $W (the driver
	# removes them itself unless it was killed)
	if [ -e "/run/netns/cdbench-${W##*.}" ]; then
		ip link del "cdb${W##*.}h" 2>/dev/null || true
		ip netns del "cdbench-${W##*.}" 2>/dev/null || true
	fi
	if [ "${BENCH_KEEP:-}" = 1 ]; then
		log "work directory kept: $W"
	else
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build --------------------------------------------------------------------
start=$(date +%s)
if [ -n "${CADDY:-}" ]; then
	cp "$CADDY" "$W/caddy"
else
	log "building ./cmd/caddy"
	go build -o "$W/caddy" ./cmd/caddy
fi
case "${BENCH_SECTIONS:-}" in
"" | media)
	# §10's S3 server, built once into the cache (scripts/lib.sh)
	CADDY_DJANGO_TEST_S3_SERVER=$(versitygw_path) || die "could not build versitygw (above)"
	export CADDY_DJANGO_TEST_S3_SERVER
	;;
esac
log "building the bench driver"
(cd bench && go build -o "$W/djbench" .) # bench/ is its own module

# --- run ----------------------------------------------------------------------
"$W/djbench" -root "$ROOT" -work "$W" -caddy "$W/caddy" \
	-rounds "${BENCH_ROUNDS:-5}" -duration "${BENCH_DURATION:-3s}" \
	-pprof="${BENCH_PPROF:-0}" -sections "${BENCH_SECTIONS:-}" -link-rate "${BENCH_LINK_RATE:-2gbit}" \
	-caddy-base "${BENCH_CADDY_BASE:-}" &
BENCH_PID=$!
set +e
wait "$BENCH_PID"
rc=$?
set -e
BENCH_PID=
log "total wall time including build: $(( $(date +%s) - start )) s"
exit "$rc"
