# Shell helpers shared by scripts/demo.sh, scripts/test.sh, .ci/run and
# bench/run.sh: source it (". scripts/lib.sh"); it runs nothing by itself.

# test_packages are the Debian packages the test suite runs on: the ones the
# tests use today, and the app servers upcoming tests need, so that CI has
# them already. scripts/test.sh installs the missing ones.
test_packages=(
	gunicorn python3-django python3-whitenoise wrk
	python3-uvicorn daphne python3-hypercorn uwsgi uwsgi-plugin-python3
	python3-gevent python3-websockets
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
