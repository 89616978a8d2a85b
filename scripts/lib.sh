# Shell helpers shared by scripts/demo.sh, scripts/test.sh, .ci/run and
# bench/run.sh: source it (". scripts/lib.sh"); it runs nothing by itself.

# test_packages are the Debian packages the test suite runs on: Django, the
# app servers, and the infrastructure the multi-container tests use for real
# (PostgreSQL for the cluster lock and as the demo project's database through
# psycopg2, HAProxy as the load balancer, django-storages with boto3 against
# an S3 server), Celery (its warm shutdown under Caddy). scripts/test.sh
# installs the missing ones.
test_packages=(
	gunicorn python3-django python3-whitenoise wrk
	python3-uvicorn daphne python3-hypercorn uwsgi uwsgi-plugin-python3
	python3-gevent python3-websockets
	postgresql haproxy python3-django-storages python3-django-storages-boto3 python3-boto3
	python3-psycopg2 python3-celery
)

# say prints a progress line on stderr.
say() { printf '==> %s\n' "$*" >&2; }

# die prints an error on stderr, prefixed with the script's name, and exits 1.
die() {
	printf '%s: %s\n' "$(basename "$0")" "$*" >&2
	exit 1
}

# pkg_installed reports whether the Debian package $1 is installed. A
# package that was removed but not purged still has a dpkg entry (its
# config files), which `dpkg -s` accepts: only the status
# "install ok installed" counts.
pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# missing_pkgs prints, one a line, the packages among its arguments that are
# not installed.
missing_pkgs() {
	local pkg
	for pkg in "$@"; do
		pkg_installed "$pkg" || printf '%s\n' "$pkg"
	done
}

# as_root runs a command as root: directly when we are root, else with sudo;
# it fails when neither is possible.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		printf 'need root to run: %s (run as root, or install sudo)\n' "$*" >&2
		return 1
	fi
}

# apt_install installs packages with apt-get (update first), as root or
# through sudo. apt-get's progress goes to stderr, like say's, so that a
# script's stdout (bench/run.sh's report) stays its own.
apt_install() {
	say "installing $* with apt-get"
	{
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update &&
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
	} >&2
}

# ensure_pkgs installs the packages among its arguments that are missing,
# and exits naming them when they cannot be installed.
ensure_pkgs() {
	command -v dpkg-query >/dev/null 2>&1 || die "this script is for Debian or Ubuntu (dpkg-query not found); it needs: $*"
	local missing
	mapfile -t missing < <(missing_pkgs "$@")
	[ ${#missing[@]} -eq 0 ] && return 0
	apt_install "${missing[@]}" || die "could not install the missing Debian packages: ${missing[*]}"
	mapfile -t missing < <(missing_pkgs "$@")
	[ ${#missing[@]} -eq 0 ] || die "still missing after apt-get install: ${missing[*]}"
}

# django42_path prints a directory that, first on PYTHONPATH, makes
# /usr/bin/python3 import Django 4.2 from Debian's bookworm-backports instead
# of the machine's Django (3.2 on bookworm), which it leaves alone. The first
# call downloads python3-django from bookworm-backports with apt-get, through
# a private sources list and private state (the machine's apt lists and
# caches are not touched, and no root is needed), unpacks it with `dpkg -x`
# and checks it; later calls print the cached directory and use no network.
# The cache is $CADDY_DJANGO_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/caddy-django).
#
# Debian's package links the admin's vendored JavaScript (jQuery) into
# /usr/share/javascript with relative links, which dangle once unpacked
# elsewhere: they are re-pointed to the same absolute paths, and every link
# must then resolve (libjs-jquery, which Debian's python3-django recommends).
# Django's own requirements (asgiref, sqlparse) must be met by the machine's
# packages. Any failure says what is wrong and returns non-zero.
django42_path() {
	local cache=${CADDY_DJANGO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caddy-django}
	local dest=$cache/python3-django-bookworm-backports
	local site=$dest/usr/lib/python3/dist-packages
	if [ ! -f "$dest/.complete" ]; then
		local work
		mkdir -p "$cache" && work=$(mktemp -d "$cache/.fetch.XXXXXX") || return 1
		if ! (django42_fetch "$work" && django42_check "$work/root" && django42_collect_admin "$work/root"); then
			rm -rf "$work"
			printf 'django42_path: could not set up Django 4.2 from bookworm-backports (above)\n' >&2
			return 1
		fi
		touch "$work/root/.complete"
		# another run may have won the race: its copy is as good as ours
		mv -T "$work/root" "$dest" 2>/dev/null || [ -f "$dest/.complete" ] || {
			rm -rf "$work"
			printf 'django42_path: could not move the unpacked Django to %s\n' "$dest" >&2
			return 1
		}
		rm -rf "$work"
	fi
	printf '%s\n' "$site"
}

# versitygw_version is the S3 server the bucket tests and the benchmark run
# (versitygw: an S3 gateway over a directory that checks SigV4 signatures);
# internal/testkit/s3server.go builds the same version into the same place.
versitygw_version=v1.8.0

# versitygw_path prints the path of a versitygw binary, building it once
# with `go install` (one to four minutes on 2 cores) into
# $CADDY_DJANGO_CACHE/versitygw-$versitygw_version (default cache
# ${XDG_CACHE_HOME:-~/.cache}/caddy-django); later calls print the cached
# binary. The build goes to a private directory first and is renamed into
# place, so concurrent calls each finish with a whole binary.
versitygw_path() {
	local cache=${CADDY_DJANGO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caddy-django}
	local dir=$cache/versitygw-$versitygw_version
	if [ ! -x "$dir/versitygw" ]; then
		local work
		mkdir -p "$dir" && work=$(mktemp -d "$dir/.build.XXXXXX") || return 1
		say "building versitygw $versitygw_version (the S3 server of the bucket tests)"
		if ! GOBIN=$work go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version" >&2; then
			rm -rf "$work"
			printf 'versitygw_path: could not build versitygw (above)\n' >&2
			return 1
		fi
		mv -f "$work/versitygw" "$dir/versitygw" && rm -rf "$work" || return 1
	fi
	printf '%s\n' "$dir/versitygw"
}

# django42_fetch downloads python3-django from bookworm-backports into $1
# and unpacks it into $1/root. The mirror and keyring are those of the
# machine's bookworm entry in $DEBIAN_SOURCES (deb822 format, default
# /etc/apt/sources.list.d/debian.sources).
django42_fetch() {
	local work=$1 sources=${DEBIAN_SOURCES:-/etc/apt/sources.list.d/debian.sources}
	local mirror='' keyring=''
	read -r mirror keyring < <(awk '
		/^[ \t]*$/ { if (main && uri) { print uri, key; exit } main = 0; uri = ""; key = "" }
		$1 == "URIs:" { uri = $2 }
		$1 == "Signed-By:" { key = $2 }
		$1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == "bookworm") main = 1 }
		END { if (main && uri) print uri, key }' "$sources" 2>/dev/null) || true
	if [ -z "$mirror" ]; then
		printf 'django42_fetch: no stanza with suite bookworm in %s\n' "$sources" >&2
		return 1
	fi
	printf 'deb [signed-by=%s] %s bookworm-backports main\n' \
		"${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}" "$mirror" >"$work/sources.list"
	mkdir -p "$work/lists/partial" "$work/archives/partial"
	local apt=(apt-get -q -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work")
	# as root, apt drops to _apt for downloads, which cannot write here
	[ "$(id -u)" -ne 0 ] || apt+=(-o APT::Sandbox::User=root)
	say "downloading python3-django from bookworm-backports ($mirror)"
	"${apt[@]}" update >&2 &&
		(cd "$work" && "${apt[@]}" download python3-django/bookworm-backports >&2) || return 1
	local debs=("$work"/python3-django_*.deb)
	[ -f "${debs[0]}" ] || {
		printf 'django42_fetch: apt-get download left no python3-django .deb\n' >&2
		return 1
	}
	dpkg -x "${debs[0]}" "$work/root"
}

# django42_check re-points the dangling relative links of the Django
# unpacked under $1 (as if installed at /) and checks that every link
# resolves, that /usr/bin/python3 imports Django 4.2 from there, and that
# Django's requirements are met.
django42_check() {
	local root=$1 link target bad=0
	while IFS= read -r -d '' link; do
		target=$(readlink "$link")
		if [ "${target#/}" = "$target" ]; then
			target=$(realpath -ms "/$(dirname "${link#"$root"/}")/$target")
			ln -sfn "$target" "$link"
		fi
		if [ ! -e "$link" ]; then
			printf 'django42_check: %s links to %s, which does not exist (a libjs-* package missing?)\n' \
				"${link#"$root"/}" "$target" >&2
			bad=1
		fi
	done < <(find "$root" -type l -print0)
	[ "$bad" -eq 0 ] || return 1
	PYTHONPATH=$root/usr/lib/python3/dist-packages /usr/bin/python3 - "$root" <<'PY' >&2
import importlib.metadata as md, os, re, sys
import django
where = os.path.realpath(django.__file__)
if not where.startswith(os.path.realpath(sys.argv[1]) + os.sep) or django.VERSION[:2] != (4, 2):
    sys.exit("django42_check: imported Django %s from %s, not 4.2 from %s" % (django.get_version(), where, sys.argv[1]))
def num(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])
ops = {">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b}
bad = []
for req in md.distribution("Django").requires or []:
    if ";" in req:
        continue  # extras and other platforms
    name = re.match(r"[A-Za-z0-9_.-]+", req).group(0)
    try:
        have = md.version(name)
    except md.PackageNotFoundError:
        bad.append("%s (not installed)" % req)
        continue
    for op, ver in re.findall(r"(>=|<=|<|>)\s*([\w.]+)", req):
        if not ops[op](num(have), num(ver)):
            bad.append("%s (have %s)" % (req, have))
if bad:
    sys.exit("django42_check: Django %s needs %s" % (django.get_version(), ", ".join(bad)))
print("Django %s unpacked, requirements met" % django.get_version())
PY
}

# django42_collect_admin runs collectstatic with ManifestStaticFilesStorage
# for Django's admin from the Django unpacked under $1, into a scratch
# directory: the vendored JavaScript it links to must be there and hashable.
django42_collect_admin() {
	local root=$1 out
	out=$(mktemp -d) || return 1
	PYTHONPATH=$root/usr/lib/python3/dist-packages /usr/bin/python3 - "$out" <<'PY' >&2
import sys
import django
from django.conf import settings
from django.core.management import call_command
settings.configure(
    INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                    "django.contrib.messages", "django.contrib.staticfiles"],
    STATIC_URL="/static/", STATIC_ROOT=sys.argv[1],
    STORAGES={"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}},
)
django.setup()
call_command("collectstatic", "--noinput", verbosity=0)
print("Django %s: the admin's static files collect" % django.get_version())
PY
	local rc=$?
	rm -rf "$out"
	[ "$rc" -eq 0 ] || printf 'django42_collect_admin: collectstatic of the admin failed (above)\n' >&2
	return "$rc"
}
