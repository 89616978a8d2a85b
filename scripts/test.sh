#!/usr/bin/env bash
# Runs every test: the script tests, vet, gofmt, go.mod tidiness, cross-builds
# for macOS and Windows, the bench module's build, an xcaddy build of this
# working tree that must list the plugin's modules, and the whole Go suite
# (real Caddy, real Gunicorn, real Django) against that build, twice: on
# Debian's Django (3.2 on bookworm), then the root package again on Django
# 4.2 from bookworm-backports, unpacked in a cache beside it (django42_path
# in scripts/lib.sh; the machine's Django is not changed). The bucket tests'
# S3 server (versitygw) is built once into the same cache (versitygw_path).
# The two runs of the suite go at the same time.
#
# Before the suite, each fuzz test runs for CADDY_DJANGO_FUZZTIME (default
# 10s).
#
# It first installs the Debian packages the tests need (test_packages in
# scripts/lib.sh) with apt-get, as root or through sudo, and stops naming the
# ones it cannot install. It ends with a line "N passed, N failed, N skipped"
# counting every Go test and subtest of both runs (scripts/testcount.go), and
# fails when either run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
# Debian's and Ubuntu's Go default to GOTOOLCHAIN=local; Caddy 2.11 needs Go 1.26
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

echo "== Debian packages: ${test_packages[*]}"
ensure_pkgs "${test_packages[@]}"

echo "== Django 4.2 from bookworm-backports, for the second run"
django42=$(django42_path) || die "could not set up Django 4.2 (above)"
echo "$django42"

echo "== the S3 server of the bucket tests (versitygw)"
CADDY_DJANGO_TEST_S3_SERVER=$(versitygw_path) || die "could not build versitygw (above)"
export CADDY_DJANGO_TEST_S3_SERVER
echo "$CADDY_DJANGO_TEST_S3_SERVER"

echo "== script tests"
bash scripts/lib_test.sh

echo "== go vet, gofmt, go mod tidy"
go vet ./...
(cd bench && go vet ./...)
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || die "gofmt needed: $unformatted"
go mod tidy -diff || die "go.mod/go.sum are not tidy (diff above): run go mod tidy"
(cd bench && go mod tidy -diff) || die "bench/go.mod is not tidy (diff above): run go mod tidy in bench/"

echo "== cross-builds"
GOOS=darwin GOARCH=arm64 go build -o /dev/null ./...
GOOS=windows GOARCH=amd64 go build -o /dev/null ./...

echo "== xcaddy build of this tree"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go tool xcaddy build v2.11.9 --with github.com/caddy-django/caddy-django@v0.0.0=. \
	--output "$tmp/caddy" >"$tmp/xcaddy.log" 2>&1 || { cat "$tmp/xcaddy.log"; die "xcaddy build failed"; }
"$tmp/caddy" list-modules | grep -E '^(django|admin.api.django|http.handlers.django_files)$' | tee "$tmp/mods"
[ "$(wc -l <"$tmp/mods")" -ge 2 ] || die "xcaddy build lacks the plugin's modules"

echo "== go test (against the xcaddy-built binary)"
go build -o "$tmp/testcount" scripts/testcount.go
export CADDY_DJANGO_TEST_CADDY="$tmp/caddy"

# Each fuzz test (FuzzXxx: parsers of outside input) for a bounded time; its
# seeds also run in the suite below. One instrumented build serves them all.
# Longer by hand: go test -run '^$' -fuzz FuzzName -fuzztime 5m .
fuzztime="${CADDY_DJANGO_FUZZTIME:-10s}"
echo "== fuzz tests, $fuzztime each"
go test -c -fuzz=. -o "$tmp/fuzz.test" .
fuzzcache="$(go env GOCACHE)/fuzz/github.com/caddy-django/caddy-django"
for target in $("$tmp/fuzz.test" -test.list '^Fuzz' | grep '^Fuzz'); do
	# -fuzzminimizetime: new inputs are minimized for at most 5 s (60 s by
	# default, which would use up the time of the slower end-to-end ones)
	if ! "$tmp/fuzz.test" -test.run='^$' -test.fuzz="^$target\$" -test.fuzztime="$fuzztime" -test.fuzzminimizetime=5s \
		-test.fuzzcachedir="$fuzzcache" -test.paniconexit0 >"$tmp/fuzz.log" 2>&1; then
		cat "$tmp/fuzz.log"
		die "fuzz test $target failed; the failing input is in testdata/fuzz/$target/: commit it with the fix"
	fi
	echo "$target: $(grep -o 'execs: [0-9]*' "$tmp/fuzz.log" | tail -n 1)"
done
# The two runs go at the same time (most of each is waiting on real
# processes: together they take little more than the longer one); their
# output is printed one after the other once both have ended.
echo "== go test ./... on Debian's Django, and go test . on Django 4.2, at the same time"
set +e
go test -json -count=1 -timeout 25m ./... >"$tmp/debian.json" 2>&1 &
debian=$!
CADDY_DJANGO_TEST_PYTHONPATH="$django42" CADDY_DJANGO_TEST_DJANGO=4.2 \
	go test -json -count=1 -timeout 25m . >"$tmp/django42.json" 2>&1 &
django42run=$!
wait "$debian"
echo $? >"$tmp/rc-debian"
wait "$django42run"
echo $? >"$tmp/rc-django42"
{
	echo "== go test ./... on Debian's Django"
	cat "$tmp/debian.json"
	echo "== go test . on Django 4.2 ($django42)"
	cat "$tmp/django42.json"
} | "$tmp/testcount"
rc=$?
set -e
[ "$rc" -eq 0 ] || die "could not count the tests (testcount exited $rc)"
# the count stays the last line: go test's failures are above it
rc=$(cat "$tmp/rc-debian")
[ "$rc" -ne 0 ] || rc=$(cat "$tmp/rc-django42")
exit "$rc"
