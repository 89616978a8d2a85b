package caddydjango

import (
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("django_files", parseDjangoFilesDirective)
	// A terminal handler like reverse_proxy: matched reverse_proxy routes
	// (e.g. a websocket server) run first, then django_files takes the rest.
	httpcaddyfile.RegisterDirectiveOrder("django_files", httpcaddyfile.After, "reverse_proxy")
}

func parseDjangoFilesDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	df := new(DjangoFiles)
	if err := df.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return df, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	django_files [<matcher>] {
//		static <url_prefix> [<dir>] | off {
//			max_age <duration>
//			immutable_max_age <duration>
//			compress [gzip] [zstd]
//			follow_symlinks
//		}
//		media <url_prefix> [<dir>] | off {
//			max_age <duration>
//			hide <path...>
//			disposition attachment | auto
//		}
//		root_files <dir> | off {
//			max_age <duration>
//		}
//		protected <dir> {
//			accel_prefix <url_prefix>
//		}
//		upstream <address>
//		app <app server name>
//		max_body <size>
//		request_buffer <size>
//		buffer_dir <dir>
//		trusted_proxies <ranges...> | private_ranges
//		wait_timeout <duration>
//		upstream_keepalive <duration>
//		health <path>
//		request_start off
//		timeout <duration>
//		on_timeout log|recycle
//	}
//
// `static` and `media` may also be given without arguments, to set only
// block options. `compress` without arguments means gzip and zstd.
func (h *DjangoFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.Errf("django_files takes no arguments, got %q; put options in a { } block", d.Val())
	}
	seen := map[string]bool{}
	for d.NextBlock(0) {
		opt := d.Val()
		if seen[opt] && opt != "trusted_proxies" {
			return d.Errf("%s is set twice", opt)
		}
		seen[opt] = true
		var err error
		switch opt {
		case "static":
			h.Static = new(StaticFiles)
			err = h.Static.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "media":
			h.Media = new(MediaFiles)
			err = h.Media.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "root_files":
			h.RootFiles = new(RootFiles)
			err = h.RootFiles.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "protected":
			h.Protected = new(ProtectedFiles)
			err = h.Protected.UnmarshalCaddyfile(d.NewFromNextSegment())
		case "upstream":
			err = oneArg(d, &h.Upstream)
		case "app":
			err = oneArg(d, &h.App)
		case "max_body":
			err = sizeArg(d, &h.MaxBody)
		case "request_buffer":
			err = sizeArg(d, &h.RequestBuffer)
		case "buffer_dir":
			err = oneArg(d, &h.BufferDir)
		case "trusted_proxies":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.Errf("trusted_proxies needs IP ranges (CIDR) or private_ranges")
			}
			for _, a := range args {
				if a == "private_ranges" {
					h.TrustedProxies = append(h.TrustedProxies, caddyhttp.PrivateRangesCIDR()...)
					continue
				}
				h.TrustedProxies = append(h.TrustedProxies, a)
			}
		case "wait_timeout":
			err = durationArg(d, &h.WaitTimeout, minPositive)
		case "upstream_keepalive":
			err = durationArg(d, &h.UpstreamKeepAlive, minPositive)
		case "health":
			if err = oneArg(d, &h.Health); err == nil && !strings.HasPrefix(h.Health, "/") {
				err = d.Errf("health: %q is not a URL path (it must start with /)", h.Health)
			}
		case "request_start":
			var v string
			if err = oneArg(d, &v); err == nil && v != "off" {
				err = d.Errf("request_start takes only `off`, got %q", v)
			}
			h.DisableRequestStart = true
		case "timeout":
			err = durationArg(d, &h.Timeout, minPositive)
		case "on_timeout":
			if err = oneArg(d, &h.OnTimeout); err == nil && h.OnTimeout != "log" && h.OnTimeout != "recycle" {
				err = d.Errf("on_timeout: %q: want log or recycle", h.OnTimeout)
			}
		default:
			return d.Errf("unknown django_files option %q (expected static, media, root_files, protected, upstream, max_body, request_buffer, buffer_dir, trusted_proxies, wait_timeout, upstream_keepalive, health, request_start, timeout or on_timeout)", opt)
		}
		if err != nil {
			return err
		}
	}
	if h.OnTimeout != "" && h.Timeout == 0 {
		return d.Errf("on_timeout %s needs a timeout, e.g. timeout 30s", h.OnTimeout)
	}
	return nil
}

// UnmarshalCaddyfile sets up static file serving from a `static` segment
// of django_files:
//
//	static <url_prefix> [<dir>] | off {
//		max_age <duration>
//		immutable_max_age <duration>
//		compress [gzip] [zstd]
//		follow_symlinks
//		cache_size <size> | off
//		cache_file_size <size>
//	}
func (s *StaticFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "static"
	return unmarshalServedDir(d, &s.URL, &s.Root, &s.Disabled, func(opt string) error {
		switch opt {
		case "max_age":
			return durationArg(d, &s.MaxAge, minPositive)
		case "immutable_max_age":
			return durationArg(d, &s.ImmutableMaxAge, minPositive)
		case "compress":
			encs := d.RemainingArgs()
			if len(encs) == 0 {
				encs = []string{"gzip", "zstd"}
			}
			if _, err := compressEncodings(encs); err != nil {
				return d.Err(err.Error())
			}
			s.Compress = encs
		case "follow_symlinks":
			if d.NextArg() {
				return d.Errf("follow_symlinks takes no arguments, got %q", d.Val())
			}
			s.FollowSymlinks = true
		case "cache_size":
			opt, v, err := optionArg(d)
			if err != nil || v == "off" {
				s.CacheSize = -1
				return err
			}
			return parseSize(d, opt, v, &s.CacheSize)
		case "cache_file_size":
			return sizeArg(d, &s.CacheFileSize)
		default:
			return d.Errf("unknown static option %q (expected max_age, immutable_max_age, compress, follow_symlinks, cache_size or cache_file_size)", opt)
		}
		return nil
	})
}

// UnmarshalCaddyfile sets up serving of uploads from a `media` segment of
// django_files:
//
//	media <url_prefix> [<dir>] | off {
//		max_age <duration>
//		hide <path...>
//		disposition attachment | auto
//	}
func (m *MediaFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "media"
	return unmarshalServedDir(d, &m.URL, &m.Root, &m.Disabled, func(opt string) error {
		switch opt {
		case "max_age":
			return durationArg(d, &m.MaxAge, minPositive)
		case "hide":
			return hideArgs(d, &m.Hide)
		case "disposition":
			if err := oneArg(d, &m.Disposition); err != nil {
				return err
			}
			if _, err := parseDisposition(m.Disposition); err != nil {
				return d.Err(err.Error())
			}
			return nil
		default:
			return d.Errf("unknown media option %q (expected max_age, hide or disposition)", opt)
		}
	})
}

// UnmarshalCaddyfile sets up protected downloads from a `protected`
// segment of django_files:
//
//	protected <dir> {
//		accel_prefix <url_prefix>
//	}
func (p *ProtectedFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "protected"
	if !d.NextArg() {
		return d.Errf("protected needs the directory of the protected files")
	}
	p.Root = d.Val()
	if d.NextArg() {
		return d.Errf("protected takes one directory, got extra %q", d.Val())
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "accel_prefix":
			if err := oneArg(d, &p.AccelPrefix); err != nil {
				return err
			}
			if _, err := normalizePrefix(p.AccelPrefix, ""); err != nil {
				return d.Errf("accel_prefix: %v", err)
			}
		default:
			return d.Errf("unknown protected option %q (expected accel_prefix)", d.Val())
		}
	}
	return nil
}

// unmarshalServedDir reads the rest of a `static` or `media` segment:
// `<url_prefix> [<dir>]`, `off`, or nothing, then its block, each option
// of which goes to option (a block after `off` is an error).
func unmarshalServedDir(d *caddyfile.Dispenser, prefix, dir *string, disabled *bool, option func(opt string) error) error {
	name := d.Val()
	args := d.RemainingArgs()
	switch {
	case len(args) == 1 && args[0] == "off":
		*disabled = true
	case len(args) > 2:
		return d.Errf("%s takes a URL prefix and a directory, got %d arguments", name, len(args))
	case len(args) >= 1:
		p, err := normalizePrefix(args[0], "")
		if err != nil {
			return d.Errf("%s: %v", name, err)
		}
		*prefix = p
		if len(args) == 2 {
			*dir = args[1]
		}
	}
	for d.NextBlock(0) {
		if *disabled {
			return d.Errf("%s is off; remove the block or the `off`", name)
		}
		if err := option(d.Val()); err != nil {
			return err
		}
	}
	return nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*DjangoFiles)(nil)
	_ caddyfile.Unmarshaler = (*StaticFiles)(nil)
	_ caddyfile.Unmarshaler = (*MediaFiles)(nil)
	_ caddyfile.Unmarshaler = (*ProtectedFiles)(nil)
	_ caddyfile.Unmarshaler = (*RootFiles)(nil)
)

// UnmarshalCaddyfile sets up files served at the site root from a
// `root_files` segment of django_files:
//
//	root_files <dir> | off {
//		max_age <duration>
//	}
func (rf *RootFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "root_files"
	args := d.RemainingArgs()
	switch {
	case len(args) > 1:
		return d.Errf("root_files takes one directory, got %d arguments", len(args))
	case len(args) == 1 && args[0] == "off":
		rf.Disabled = true
	case len(args) == 1:
		rf.Root = args[0]
	}
	for d.NextBlock(0) {
		switch {
		case rf.Disabled:
			return d.Errf("root_files is off; remove the block or the `off`")
		case d.Val() == "max_age":
			if err := durationArg(d, &rf.MaxAge, minPositive); err != nil {
				return err
			}
		default:
			return d.Errf("unknown root_files option %q (expected max_age)", d.Val())
		}
	}
	return nil
}

// hideArgs appends the paths of a media `hide` line to dst.
func hideArgs(d *caddyfile.Dispenser, dst *[]string) error {
	paths := d.RemainingArgs()
	if len(paths) == 0 {
		return d.Errf("hide needs paths relative to the media root (e.g. hide invoices cachedfiles)")
	}
	for _, p := range paths {
		if _, err := cleanHidePath(p); err != nil {
			return d.Err(err.Error())
		}
	}
	*dst = append(*dst, paths...)
	return nil
}
