#!/usr/bin/env bash
# Tests of scripts/lib.sh and scripts/testcount.go, run by scripts/test.sh
# (or alone: bash scripts/lib_test.sh). dpkg-query and apt-get are faked by
# shims put first on PATH, so nothing is installed, removed or downloaded
# (the real Django 4.2 is checked only when django42_path has cached it).
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

# testcount over two runs of one package (scripts/test.sh runs the root
# package twice): the second run's build failure counts although the first
# run had a failed test.
cat >"$tmp/events2" <<'EOF'
{"Action":"start","Package":"p"}
{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"fail","Package":"p"}
== a line between the runs
{"Action":"start","Package":"p"}
{"Action":"output","Package":"p","Output":"# p: build failed\n"}
{"Action":"fail","Package":"p"}
EOF
"$tmp/testcount" <"$tmp/events2" >"$tmp/summary2"
check "testcount counts each run of a package: a failed test, then a failed build" \
	test "$(tail -n 1 "$tmp/summary2")" = "0 passed, 2 failed, 0 skipped"

# django42_path, offline: apt-get is a shim that logs its arguments and the
# sources list it was given, and "downloads" a fake python3-django .deb
# (built here with dpkg-deb) holding a Django 4.2 that needs fakedep, which
# the .deb brings too, and a relative link like Debian's links into
# /usr/share/javascript. The admin's collectstatic needs the real Django:
# it is checked further down, on the real package when it is cached.
cat >"$tmp/debian.sources" <<'EOF'
Types: deb
URIs: http://mirror.test/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /keys/debian.gpg

Types: deb
URIs: http://mirror.test/debian-security
Suites: bookworm-security
Components: main
Signed-By: /keys/security.gpg
EOF
make_deb() { # name, Django's requirement on fakedep, the link's target
	local pkg=$tmp/debs/$1
	local site=$pkg/usr/lib/python3/dist-packages
	mkdir -p "$pkg/DEBIAN" "$site/django/vendor" "$site/Django-4.2.99.dist-info" "$site/fakedep-1.5.dist-info"
	printf 'Package: python3-django\nVersion: 3:4.2.99-1\nArchitecture: all\nMaintainer: t <t@t.test>\nDescription: fake\n' \
		>"$pkg/DEBIAN/control"
	printf 'VERSION = (4, 2, 99, "final", 0)\n\n\ndef get_version():\n    return "4.2.99"\n' >"$site/django/__init__.py"
	printf 'Metadata-Version: 2.1\nName: Django\nVersion: 4.2.99\nRequires-Dist: %s\nRequires-Dist: notinstalled ; extra == "x"\n' \
		"$2" >"$site/Django-4.2.99.dist-info/METADATA"
	printf 'Metadata-Version: 2.1\nName: fakedep\nVersion: 1.5\n' >"$site/fakedep-1.5.dist-info/METADATA"
	ln -s "$3" "$site/django/vendor/sh"
	dpkg-deb --root-owner-group --build "$pkg" "$tmp/debs/$1.deb" >/dev/null
}
if command -v dpkg-deb >/dev/null && [ -x /usr/bin/python3 ]; then
	make_deb good 'fakedep (<2,>=1.4)' ../../../../../../bin/sh
	make_deb dangling 'fakedep (>=1.4)' ../../../../../../no/such/file
	make_deb unmet 'fakedep (>=1.10)' ../../../../../../bin/sh
	mkdir "$tmp/aptbin"
	cat >"$tmp/aptbin/apt-get" <<'EOF'
#!/bin/sh
echo "$*" >>"$APT_LOG"
for a; do case "$a" in
Dir::Etc::SourceList=*) cp "${a#*=}" "$APT_LOG.sources" ;;
update) exit 0 ;;
download) cp "$FAKE_DEB" "python3-django_3%3a4.2.99-1_all.deb"; exit 0 ;;
esac; done
exit 100
EOF
	chmod +x "$tmp/aptbin/apt-get"
	dj42() { # fake .deb, cache dir: runs django42_path, prints its output
		PATH="$tmp/aptbin:$PATH" APT_LOG="$tmp/apt.log" FAKE_DEB="$tmp/debs/$1.deb" CADDY_DJANGO_CACHE="$2" \
			DEBIAN_SOURCES="$tmp/debian.sources" \
			bash -c ". '$repo/scripts/lib.sh'; django42_collect_admin() { :; }; django42_path" 2>&1
	}
	site=$tmp/c1/python3-django-bookworm-backports/usr/lib/python3/dist-packages
	out=$(dj42 good "$tmp/c1") || true
	check "django42_path prints the unpacked dist-packages" test "$(tail -n 1 <<<"$out")" = "$site"
	check "django42_path uses the bookworm mirror and keyring, suite bookworm-backports" \
		test "$(cat "$tmp/apt.log.sources")" = "deb [signed-by=/keys/debian.gpg] http://mirror.test/debian bookworm-backports main"
	check "django42_path keeps apt's lists and cache private" \
		grep -q "Dir::State::Lists=$tmp/c1/.fetch.*/lists -o Dir::Cache=$tmp/c1/.fetch" "$tmp/apt.log"
	check "django42_path downloads python3-django from bookworm-backports" \
		grep -q 'download python3-django/bookworm-backports$' "$tmp/apt.log"
	check "django42_path re-points relative links to the installed path" \
		test "$(readlink "$site/django/vendor/sh")" = /bin/sh
	check "django42_path leaves no scratch directory" test -z "$(find "$tmp/c1" -maxdepth 1 -name '.fetch*')"
	rm "$tmp/apt.log"
	check "django42_path answers from its cache the second time" test "$(dj42 missing "$tmp/c1")" = "$site"
	check "... and runs no apt-get" test ! -e "$tmp/apt.log"
	out=$(dj42 dangling "$tmp/c2" && echo succeeded) || true
	check "django42_path fails naming a link that does not resolve" \
		grep -q 'django/vendor/sh links to /no/such/file, which does not exist' <<<"$out"
	check "... and caches nothing" test -z "$(ls -A "$tmp/c2")"
	out=$(dj42 unmet "$tmp/c3" && echo succeeded) || true
	check "django42_path fails naming an unmet requirement of Django" \
		grep -qF 'Django 4.2.99 needs fakedep (>=1.10) (have 1.5)' <<<"$out"
	check "... and does not succeed" bash -c '! grep -q succeeded <<<"$1"' _ "$out"
	sed -i 's/Suites: bookworm bookworm-updates/Suites: trixie/' "$tmp/debian.sources"
	out=$(dj42 good "$tmp/c4" && echo succeeded) || true
	check "django42_path fails when the machine has no bookworm source" \
		grep -q "no stanza with suite bookworm in $tmp/debian.sources" <<<"$out"
fi

# versitygw_path, offline: go is a shim that logs its arguments and writes
# a fake binary into $GOBIN; the second call must use the cached one.
mkdir "$tmp/gobin"
cat >"$tmp/gobin/go" <<'EOF2'
#!/bin/sh
echo "$*" >>"$GO_LOG"
printf '#!/bin/sh\necho fake versitygw\n' >"$GOBIN/versitygw"
chmod +x "$GOBIN/versitygw"
EOF2
chmod +x "$tmp/gobin/go"
vgw() { PATH="$tmp/gobin:$PATH" GO_LOG=$tmp/go.log CADDY_DJANGO_CACHE=$tmp/vc bash -c ". '$repo/scripts/lib.sh'; versitygw_path" 2>/dev/null; }
first=$(vgw) second=$(vgw)
check "versitygw_path builds into the cache and prints the binary" \
	test "$first" = "$tmp/vc/versitygw-v1.8.0/versitygw" -a -x "$first"
check "versitygw_path installs github.com/versity/versitygw/cmd/versitygw@v1.8.0" \
	grep -qx 'install github.com/versity/versitygw/cmd/versitygw@v1.8.0' "$tmp/go.log"
check "versitygw_path builds once" test "$second" = "$first" -a "$(wc -l <"$tmp/go.log")" -eq 1
check "versitygw_path leaves no build directory" test -z "$(find "$tmp/vc/versitygw-v1.8.0" -name '.build*')"

# The real Django 4.2, when django42_path has cached it (scripts/test.sh
# does, before running this): as unpacked by dpkg -x, its relative links
# dangle and the admin's collectstatic fails; django42_check re-points them.
real=${CADDY_DJANGO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caddy-django}/python3-django-bookworm-backports
if [ -f "$real/.complete" ]; then
	cp -a "$real" "$tmp/real"
	while IFS= read -r -d '' link; do
		rel=${link#"$tmp/real"/}
		ln -sfn "$(realpath -ms --relative-to="/$(dirname "$rel")" "$(readlink "$link")")" "$link"
	done < <(find "$tmp/real" -type l -print0)
	fails() { ! "$@"; }
	real_dj42() { bash -c ". '$repo/scripts/lib.sh'; $1 '$tmp/real'" >"$tmp/real.out" 2>&1; }
	check "real Django 4.2 with Debian's relative links: the admin's static files do not collect" \
		fails real_dj42 django42_collect_admin
	check "django42_check re-points the links" real_dj42 django42_check
	check "then the admin's static files collect" real_dj42 django42_collect_admin
else
	echo "skip the checks on the real Django 4.2: not cached (scripts/test.sh fetches it first)"
fi

echo "lib_test.sh: $((count - fails)) of $count checks ok"
[ "$fails" -eq 0 ]
