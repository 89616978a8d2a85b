package caddydjango

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func oneArg(d *caddyfile.Dispenser, dst *string) error {
	opt := d.Val()
	if !d.NextArg() {
		return d.Errf("%s needs a value", opt)
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.Errf("%s takes one value, got extra %q", opt, d.Val())
	}
	return nil
}

func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	opt := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil {
		return d.Errf("%s %q is not a duration (examples: 500ms, 10s, 2m)", opt, s)
	}
	if dur < 0 {
		return d.Errf("%s %q must not be negative", opt, s)
	}
	*dst = caddy.Duration(dur)
	return nil
}

func intArg(d *caddyfile.Dispenser, dst *int, minimum int) error {
	opt := d.Val()
	var s string
	if err := oneArg(d, &s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return d.Errf("%s %q is not a whole number", opt, s)
	}
	if n < minimum {
		return d.Errf("%s must be at least %d, got %d", opt, minimum, n)
	}
	*dst = n
	return nil
}
