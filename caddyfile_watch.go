package caddydjango

import (
	"strings"

	"github.com/caddy-django/caddy-django/internal/watch"
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// unmarshalWatch parses the `watch` option of an app server or a process:
//
//	watch [<pattern>…] | on | off {
//		exclude <pattern>…
//		poll [<interval>] | off
//		debounce <duration>
//	}
//
// `watch` alone, or `on` (true, yes, 1), watches the default patterns;
// `off` (false, no, 0) or an empty value turns it off, block and all, so
// that one environment variable can switch it: `watch "{$CADDY_DJANGO_DEV}"`
// (quoted, the variable unset or set to the empty string leaves an empty
// value, which is off; unquoted, it would leave a bare `watch`, which is
// on).
func (o *ProcessOptions) unmarshalWatch(d *caddyfile.Dispenser) error {
	c := new(WatchConfig)
	on := true
	args := d.RemainingArgs()
	if len(args) == 1 {
		switch strings.ToLower(strings.TrimSpace(args[0])) {
		case "on", "true", "yes", "1":
			args = nil
		case "", "off", "false", "no", "0":
			args, on = nil, false
		}
	}
	if err := watch.ValidatePatterns(args); err != nil {
		return d.Errf("watch: %v", err)
	}
	c.Patterns = args
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch opt := d.Val(); opt {
		case "exclude":
			more := d.RemainingArgs()
			if len(more) == 0 {
				return d.Err("exclude needs glob patterns, relative to the root, e.g. exclude **/tests/** docs")
			}
			if err := watch.ValidatePatterns(more); err != nil {
				return d.Errf("exclude: %v", err)
			}
			c.Exclude = append(c.Exclude, more...)
		case "poll":
			err = c.unmarshalPoll(d)
		case "debounce":
			err = durationArg(d, &c.Debounce, minPositive)
		default:
			err = d.Errf("unknown watch option %q (want exclude, poll or debounce)", opt)
		}
		if err != nil {
			return err
		}
	}
	if on {
		o.Watch = c
	}
	return nil
}

// unmarshalPoll parses `poll [<interval>] | off`: polling forced (every
// interval), or never used.
func (c *WatchConfig) unmarshalPoll(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	switch {
	case len(args) > 1:
		return d.Errf("poll takes one interval (or off), got %d arguments", len(args))
	case len(args) == 0:
		c.Method = watch.Poll
	case args[0] == "off":
		c.Method = watch.Notify
	default:
		dur, err := caddy.ParseDuration(args[0])
		if err != nil || dur <= 0 {
			return d.Errf("poll: %q is not a positive duration (examples: 500ms, 2s) or off", args[0])
		}
		c.Method, c.PollInterval = watch.Poll, caddy.Duration(dur)
	}
	return nil
}
