#!/usr/bin/env bash
# Runs every test: vet, the whole Go suite (real Caddy, real Gunicorn, real
# Django), cross-builds for macOS and Windows, and an xcaddy build of this
# working tree that must list the plugin's modules.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's and Ubuntu's Go default to GOTOOLCHAIN=local; Caddy 2.11 needs Go 1.26
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

echo "== go vet"
go vet ./...
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "gofmt needed: $unformatted"; exit 1; }

echo "== cross-builds"
GOOS=darwin GOARCH=arm64 go build -o /dev/null ./...
GOOS=windows GOARCH=amd64 go build -o /dev/null ./...

echo "== xcaddy build of this tree"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(go run github.com/caddyserver/xcaddy/cmd/xcaddy@v0.4.5 build v2.11.9 \
	--with github.com/caddy-django/caddy-django@v0.0.0=. --output "$tmp/caddy") >"$tmp/xcaddy.log" 2>&1 || { cat "$tmp/xcaddy.log"; exit 1; }
"$tmp/caddy" list-modules | grep -E '^(django|admin.api.django|http.handlers.django_files)$' | tee "$tmp/mods"
[ "$(wc -l <"$tmp/mods")" -ge 2 ] || { echo "xcaddy build lacks the plugin's modules"; exit 1; }

echo "== go test (against the xcaddy-built binary)"
CADDY_DJANGO_TEST_CADDY="$tmp/caddy" go test -count=1 -timeout 20m ./...
