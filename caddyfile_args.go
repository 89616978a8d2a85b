package caddydjango

import (
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/dustin/go-humanize"
)

// Argument helpers shared by the `django` global option and the
// `django_files` directive. Each reads the value of the option at the
// dispenser's cursor (`<option> <value>`), refuses a missing or extra
// value, and words its errors one way: `<option>: "<value>" is not a ...`,
// with the file and line (d.Errf).

// minPositive is the minimum to pass to durationArg for a duration that
// must be above zero.
const minPositive = time.Nanosecond

// oneArg reads the option's single value.
func oneArg(d *caddyfile.Dispenser, dst *string) error {
	opt := d.Val()
	if !d.NextArg() {
		return missingValueErr(d, opt, "needs a value")
	}
	*dst = d.Val()
	if d.NextArg() {
		return d.Errf("%s takes one value, got extra %q", opt, d.Val())
	}
	return nil
}

// optionArg returns the option's name and its single value.
func optionArg(d *caddyfile.Dispenser) (opt, val string, err error) {
	opt = d.Val()
	err = oneArg(d, &val)
	return opt, val, err
}

// durationArg reads a duration (Caddy's syntax: 500ms, 10s, 5m, 1h, 365d)
// of at least minimum: 0 allows zero, minPositive refuses it.
func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration, minimum time.Duration) error {
	opt, s, err := optionArg(d)
	if err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil {
		return d.Errf("%s: %q is not a duration (examples: 500ms, 10s, 5m, 1h, 365d)", opt, s)
	}
	if dur < minimum {
		switch minimum {
		case 0:
			return d.Errf("%s: %q must not be negative", opt, s)
		case minPositive:
			return d.Errf("%s: %q must be positive", opt, s)
		}
		return d.Errf("%s: %q must be at least %s", opt, s, minimum)
	}
	*dst = caddy.Duration(dur)
	return nil
}

// toggleArg reads a switch: the option alone is true, an empty value
// false (`finders "{$CADDY_DJANGO_DEV}"` with the variable unset or empty:
// quoted, it leaves an empty value rather than none), else its value as
// boolArg reads it.
func toggleArg(d *caddyfile.Dispenser, dst *bool) error {
	switch d.CountRemainingArgs() {
	case 0:
		*dst = true
		return nil
	case 1:
		if d.NextArg(); strings.TrimSpace(d.Val()) == "" {
			*dst = false
			return nil
		}
		d.Prev()
	}
	return boolArg(d, dst)
}

// boolArg reads true/false (also on/off, yes/no, 1/0).
func boolArg(d *caddyfile.Dispenser, dst *bool) error {
	opt, s, err := optionArg(d)
	if err != nil {
		return err
	}
	switch strings.ToLower(s) {
	case "true", "on", "yes", "1":
		*dst = true
	case "false", "off", "no", "0":
		*dst = false
	default:
		return d.Errf("%s: %q is not a boolean (want true or false)", opt, s)
	}
	return nil
}

// intArg reads a whole number of at least minimum.
func intArg(d *caddyfile.Dispenser, dst *int, minimum int) error {
	opt, s, err := optionArg(d)
	if err != nil {
		return err
	}
	return parseWhole(d, opt, s, "", minimum, dst)
}

// parseWhole parses s, the value of option opt, as a whole number of at
// least minimum; or names what else opt takes (" or auto").
func parseWhole(d *caddyfile.Dispenser, opt, s, or string, minimum int, dst *int) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return d.Errf("%s: %q is not a whole number%s", opt, s, or)
	}
	if n < minimum {
		return d.Errf("%s must be at least %d, got %d", opt, minimum, n)
	}
	*dst = n
	return nil
}

// sizeArg reads a positive size in bytes (512KB, 10MB, 1GiB).
func sizeArg(d *caddyfile.Dispenser, dst *int64) error {
	opt, s, err := optionArg(d)
	if err != nil {
		return err
	}
	return parseSize(d, opt, s, dst)
}

// sizeOrOffArg reads a size as sizeArg does, or word (off, unlimited),
// which sets -1.
func sizeOrOffArg(d *caddyfile.Dispenser, dst *int64, word string) error {
	opt, s, err := optionArg(d)
	if err != nil {
		return err
	}
	if s == word {
		*dst = -1
		return nil
	}
	if err := parseSize(d, opt, s, dst); err != nil {
		return d.Errf("%s: %q is not a size (examples: 512KB, 10MB, 1GiB) or %s", opt, s, word)
	}
	return nil
}

// parseSize parses s, the value of option opt, as sizeArg does.
func parseSize(d *caddyfile.Dispenser, opt, s string, dst *int64) error {
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > 1<<62 || strings.HasPrefix(s, "-") {
		return d.Errf("%s: %q is not a size (examples: 512KB, 10MB, 1GiB)", opt, s)
	}
	*dst = int64(n)
	return nil
}

// countArg reads a whole number of at least minimum, or `auto` (the CPUs
// the container may use, resolved when the config is provisioned).
func countArg(d *caddyfile.Dispenser, dst *Count, minimum int) error {
	opt, s, err := optionArg(d)
	if err != nil {
		return err
	}
	if s == autoCount {
		*dst = countAuto
		return nil
	}
	var n int
	if err := parseWhole(d, opt, s, " or auto", minimum, &n); err != nil {
		return err
	}
	*dst = countOf(n)
	return nil
}
