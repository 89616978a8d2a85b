#!/usr/bin/env bash
# Tests of scripts/lib.sh and scripts/testcount.go, run by scripts/test.sh
# (or alone: bash scripts/lib_test.sh). dpkg-query and apt-get are faked by
# shims put first on PATH, so nothing is installed or removed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 count=0
check() { # description, command...
	local what=$1
	shift
	count=$((count + 1))
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fails=$((fails + 1))
	fi
}

# A dpkg-query that answers like the real one for three packages: one
# installed, one removed with its config files left (status "deinstall ok
# config-files": `dpkg -s` still succeeds for it), one never installed.
mkdir "$tmp/bin"
cat >"$tmp/bin/dpkg-query" <<'EOF'
#!/bin/sh
pkg=$(eval echo "\${$#}")
case "$pkg" in
installed-pkg) printf 'install ok installed' ;;
removed-pkg) printf 'deinstall ok config-files' ;;
*) echo "dpkg-query: no packages found matching $pkg" >&2; exit 1 ;;
esac
EOF
# An apt-get that always fails, as without a network or a package source.
printf '#!/bin/sh\necho "E: Unable to locate package" >&2\nexit 100\n' >"$tmp/bin/apt-get"
chmod +x "$tmp/bin/"*

in_shim() { PATH="$tmp/bin:$PATH" bash -c ". '$repo/scripts/lib.sh'; $1" 2>&1; }

check "an installed package is installed" in_shim 'pkg_installed installed-pkg'
check "a removed package whose config files remain is missing" \
	test "$(in_shim 'pkg_installed removed-pkg && echo installed || echo missing')" = missing
check "an unknown package is missing" \
	test "$(in_shim 'pkg_installed no-such-pkg && echo installed || echo missing')" = missing
check "missing_pkgs lists the removed and the unknown package, in order" \
	test "$(in_shim 'missing_pkgs installed-pkg removed-pkg no-such-pkg' | tr '\n' ' ')" = "removed-pkg no-such-pkg "

# ensure_pkgs: nothing to do, and a failed install that names what is missing
# (as root: sudo plays no part; the shimmed apt-get fails).
check "ensure_pkgs does nothing when all are installed" in_shim 'ensure_pkgs installed-pkg'
if [ "$(id -u)" -eq 0 ]; then
	out=$(in_shim 'ensure_pkgs installed-pkg removed-pkg; echo returned' || true)
	check "ensure_pkgs exits naming the packages it could not install" \
		grep -q 'could not install the missing Debian packages: removed-pkg$' <<<"$out"
	check "ensure_pkgs does not return after a failed install" \
		bash -c '! grep -q returned <<<"$1"' _ "$out"
fi

# testcount: every test and subtest once, a build failure as one failed,
# the closing line last.
go build -o "$tmp/testcount" scripts/testcount.go
cat >"$tmp/events" <<'EOF'
{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"run","Package":"p","Test":"TestA/sub"}
{"Action":"pass","Package":"p","Test":"TestA/sub"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: needs root\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: \"Action\":\"pass\" in a log line\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"fail","Package":"p"}
{"Action":"fail","Package":"q"}
go: a line that is not JSON
EOF
"$tmp/testcount" <"$tmp/events" >"$tmp/summary"
check "testcount counts tests and subtests, and a failed build as one failed" \
	test "$(tail -n 1 "$tmp/summary")" = "2 passed, 2 failed, 1 skipped"
check "testcount shows a skipped test's reason" \
	grep -q 'needs root' "$tmp/summary"
check "testcount shows a failed test's output" grep -q 'c_test.go:3' "$tmp/summary"
check "testcount passes through lines that are not JSON" grep -qx 'go: a line that is not JSON' "$tmp/summary"

echo "lib_test.sh: $((count - fails)) of $count checks ok"
[ "$fails" -eq 0 ]
