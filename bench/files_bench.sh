#!/usr/bin/env bash
# Compares the django_files handler with plain Caddy handlers, in ONE Caddy
# process (one site per variant) on 127.0.0.1:
#   static: a small hashed CSS file through django_files vs file_server
#   proxy:  Django's /hello/ through django_files vs reverse_proxy (same Gunicorn)
#   proxy-fast (extra): the same two handlers in front of a trivial upstream
#           (a `respond` site in the same Caddy, with upstream keep-alive on
#           both sides), so that Caddy's own cost, not Gunicorn's, decides
#           the throughput
# Runs alternate (A B, B A, ...) and the medians are compared. Target: each
# ratio django_files / plain >= 0.95.
#
# Usage: bench/files_bench.sh            (from the repository root or anywhere)
# Env:   RUNS=7 (runs per variant)  DURATION=3 (seconds per run)
#        CONNS=32  THREADS=1  WORKERS=3 (Gunicorn sync workers)  STRICT=1 (exit 1 on a miss)
#        PAIRS="static proxy proxy-fast" (which comparisons to run)
# Needs: go, wrk, /usr/bin/python3 with Django 3.2, /usr/bin/gunicorn.
set -euo pipefail

RUNS=${RUNS:-7}
PAIRS=${PAIRS:-static proxy proxy-fast}
DURATION=${DURATION:-3}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-3}
PYTHON=/usr/bin/python3
GUNICORN=/usr/bin/gunicorn

repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go wrk "$PYTHON" "$GUNICORN"; do
	command -v "$tool" >/dev/null || { echo "files_bench: $tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/files-bench.XXXXXX)
caddy_pid="" gunicorn_pid=""
cleanup() {
	[ -n "$caddy_pid" ] && kill "$caddy_pid" 2>/dev/null && wait "$caddy_pid" 2>/dev/null || true
	# Gunicorn runs in its own process group (setsid): stop master and workers
	[ -n "$gunicorn_pid" ] && kill -TERM -- "-$gunicorn_pid" 2>/dev/null || true
	[ -n "$gunicorn_pid" ] && { for _ in $(seq 50); do kill -0 "$gunicorn_pid" 2>/dev/null || break; sleep 0.1; done; kill -KILL -- "-$gunicorn_pid" 2>/dev/null || true; }
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # url, seconds
	local i
	for i in $(seq $(($2 * 10))); do
		"$PYTHON" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "files_bench: $1 did not answer within $2 s" >&2
	return 1
}

echo "== building Caddy with the plugin"
(cd "$repo" && go build -o "$tmp/caddy" ./cmd/caddy)

echo "== preparing the demo Django project"
cp -r "$repo/testdata/demo" "$tmp/demo"
proj=$tmp/demo
export DJANGO_SETTINGS_MODULE=demo.settings DJANGO_STATIC_ROOT=$proj/static_root DJANGO_MEDIA_ROOT=$proj/media_root \
	DJANGO_PRIVATE_ROOT=$proj/private_files DJANGO_DB_PATH=$proj/db.sqlite3 PYTHONDONTWRITEBYTECODE=1
(cd "$proj" && timeout 120 "$PYTHON" manage.py migrate --noinput >/dev/null && timeout 120 "$PYTHON" manage.py collectstatic --noinput >/dev/null)
css=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["paths"]["css/app.css"])' "$proj/static_root/staticfiles.json")

gport=$(free_port); dfport=$(free_port); plainport=$(free_port)
fastport=$(free_port); dffast=$(free_port); plainfast=$(free_port)
echo "== starting Gunicorn ($WORKERS sync workers) on 127.0.0.1:$gport"
(cd "$proj" && exec setsid "$GUNICORN" --bind "127.0.0.1:$gport" --workers "$WORKERS" demo.wsgi:application >"$tmp/gunicorn.log" 2>&1) &
gunicorn_pid=$!
wait_http "http://127.0.0.1:$gport/hello/" 60

cat >"$tmp/Caddyfile" <<EOF
{
	admin off
	persist_config off
}
http://:$dfport {
	django_files {
		static /static/ $proj/static_root
		media /media/ $proj/media_root
		upstream 127.0.0.1:$gport
	}
}
http://:$plainport {
	handle_path /static/* {
		root * $proj/static_root
		file_server
	}
	reverse_proxy 127.0.0.1:$gport
}
http://:$fastport {
	respond "hello from a trivial upstream"
}
http://:$dffast {
	django_files {
		static /static/ $proj/static_root
		media /media/ $proj/media_root
		upstream 127.0.0.1:$fastport
		# this upstream keeps connections alive, like reverse_proxy's default
		# (Gunicorn's sync workers never do; django_files keeps none by default)
		upstream_keepalive 2m
	}
}
http://:$plainfast {
	reverse_proxy 127.0.0.1:$fastport
}
EOF
echo "== starting Caddy (django_files on :$dfport, plain on :$plainport)"
"$tmp/caddy" run --config "$tmp/Caddyfile" >"$tmp/caddy.log" 2>&1 &
caddy_pid=$!
wait_http "http://127.0.0.1:$dfport/static/$css" 30
wait_http "http://127.0.0.1:$plainport/static/$css" 30
for p in $dfport $plainport; do
	body=$(curl -sf "http://127.0.0.1:$p/static/$css") || { echo "static check failed on :$p" >&2; exit 1; }
	[ "$body" = "$(cat "$proj/static_root/$css")" ] || { echo "static body differs on :$p" >&2; exit 1; }
	curl -sf "http://127.0.0.1:$p/hello/" | grep -q "hello from django" || { echo "proxy check failed on :$p" >&2; exit 1; }
done

hz=$(getconf CLK_TCK)
caddy_ticks() { awk '{print $14 + $15}' "/proc/$caddy_pid/stat"; }

run_wrk() { # url -> "requests/s caddy-CPU-microseconds-per-request"
	local out t0 t1
	t0=$(caddy_ticks)
	out=$(timeout $((DURATION + 20)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "$1")
	t1=$(caddy_ticks)
	if grep -q "Non-2xx" <<<"$out"; then
		echo "files_bench: non-2xx responses from $1" >&2
		echo "$out" >&2
		exit 1
	fi
	awk -v t0="$t0" -v t1="$t1" -v hz="$hz" '
		/requests in/ {n = $1}
		/^Requests\/sec:/ {rps = $2}
		END {printf "%s %.2f\n", rps, (t1 - t0) / hz * 1e6 / n}' <<<"$out"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

declare -A results
bench_pair() { # name, django_files url, plain url
	local name=$1 dfurl=$2 plainurl=$3 i df pl dfc plc
	local dfs="" pls="" ratios="" dfcs="" plcs=""
	echo "== $name: $RUNS alternating runs of ${DURATION}s each, wrk -t$THREADS -c$CONNS"
	run_wrk "$dfurl" >/dev/null; run_wrk "$plainurl" >/dev/null # warm-up
	for i in $(seq "$RUNS"); do
		if ((i % 2)); then
			read -r df dfc <<<"$(run_wrk "$dfurl")"; read -r pl plc <<<"$(run_wrk "$plainurl")"
		else
			read -r pl plc <<<"$(run_wrk "$plainurl")"; read -r df dfc <<<"$(run_wrk "$dfurl")"
		fi
		printf '   run %d: django_files %10.1f req/s %7.1f us CPU/req   plain %10.1f req/s %7.1f us CPU/req\n' "$i" "$df" "$dfc" "$pl" "$plc"
		dfs+=" $df"; pls+=" $pl"; dfcs+=" $dfc"; plcs+=" $plc"
		ratios+=" $(awk -v a="$df" -v b="$pl" 'BEGIN {printf "%.4f", a/b}')"
	done
	local mdf mpl mr mdfc mplc
	mdf=$(median <<<"$dfs"); mpl=$(median <<<"$pls"); mr=$(median <<<"$ratios")
	mdfc=$(median <<<"$dfcs"); mplc=$(median <<<"$plcs")
	results[$name]="$mdf $mpl $mr $mdfc $mplc"
}

for name in $PAIRS; do
	case $name in
	static) bench_pair static "http://127.0.0.1:$dfport/static/$css" "http://127.0.0.1:$plainport/static/$css" ;;
	proxy) bench_pair proxy "http://127.0.0.1:$dfport/hello/" "http://127.0.0.1:$plainport/hello/" ;;
	proxy-fast) bench_pair proxy-fast "http://127.0.0.1:$dffast/hello/" "http://127.0.0.1:$plainfast/hello/" ;;
	*) echo "files_bench: unknown pair $name" >&2; exit 2 ;;
	esac
done

echo
echo "== results: medians; ratio = django_files / plain throughput (target >= 0.95)"
echo "   (Caddy CPU per request is the less load-sensitive view: efficiency = plain CPU / django_files CPU)"
printf '%-10s %13s %11s %8s %11s %11s %11s %11s  %s\n' "" "django_files" "plain" "ratio" "pair ratio" "df us/req" "plain us/req" "efficiency" "verdict"
miss=0
for name in $PAIRS; do
	read -r mdf mpl mr mdfc mplc <<<"${results[$name]}"
	ratio=$(awk -v a="$mdf" -v b="$mpl" 'BEGIN {printf "%.3f", a/b}')
	eff=$(awk -v a="$mplc" -v b="$mdfc" 'BEGIN {printf "%.3f", a/b}')
	verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.95) ? "ok" : "MISS"}')
	[ "$verdict" = ok ] || miss=1
	printf '%-10s %13.1f %11.1f %7.3fx %10.3fx %11.1f %11.1f %10.3fx  %s\n' "$name" "$mdf" "$mpl" "$ratio" "$mr" "$mdfc" "$mplc" "$eff" "$verdict"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (other work on the machine makes runs noisy)"
if [ "$miss" = 1 ] && [ "${STRICT:-0}" = 1 ]; then
	exit 1
fi
