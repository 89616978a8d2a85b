// Command caddy is a Caddy binary with the caddy-django plugin built in, for
// `go build ./cmd/caddy` during development. Users build theirs with xcaddy:
//
//	xcaddy build v2.11.9 --with github.com/caddy-django/caddy-django
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// plug in Caddy modules here
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/caddy-django/caddy-django"
)

func main() {
	caddycmd.Main()
}
