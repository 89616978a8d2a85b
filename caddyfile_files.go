package caddydjango

import (
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
//		}
//		protected <dir> {
//			accel_prefix <url_prefix>
//		}
//		upstream <address>
//		max_body <size>
//		request_buffer <size>
//		buffer_dir <dir>
//		trusted_proxies <ranges...> | private_ranges
//		wait_timeout <duration>
//		upstream_keepalive <duration>
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
		switch opt {
		case "static":
			h.Static = new(StaticFiles)
			if err := h.Static.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
				return err
			}
		case "media":
			h.Media = new(MediaFiles)
			if err := h.Media.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
				return err
			}
		case "protected":
			h.Protected = new(ProtectedFiles)
			if err := h.Protected.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
				return err
			}
		case "upstream":
			if err := oneArg(d, &h.Upstream); err != nil {
				return err
			}
		case "max_body":
			if err := sizeArg(d, &h.MaxBody); err != nil {
				return err
			}
		case "request_buffer":
			if err := sizeArg(d, &h.RequestBuffer); err != nil {
				return err
			}
		case "buffer_dir":
			if err := oneArg(d, &h.BufferDir); err != nil {
				return err
			}
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
			if err := durationArg(d, &h.WaitTimeout, minPositive); err != nil {
				return err
			}
		case "upstream_keepalive":
			if err := durationArg(d, &h.UpstreamKeepAlive, minPositive); err != nil {
				return err
			}
		default:
			return d.Errf("unknown django_files option %q (expected static, media, protected, upstream, max_body, request_buffer, buffer_dir, trusted_proxies, wait_timeout or upstream_keepalive)", opt)
		}
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
//	}
func (s *StaticFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "static"
	off, err := filesPrefixAndDir(d, &s.URL, &s.Root)
	if err != nil {
		return err
	}
	s.Disabled = off
	for d.NextBlock(0) {
		if off {
			return d.Errf("static is off; remove the block or the `off`")
		}
		switch d.Val() {
		case "max_age":
			if err := durationArg(d, &s.MaxAge, minPositive); err != nil {
				return err
			}
		case "immutable_max_age":
			if err := durationArg(d, &s.ImmutableMaxAge, minPositive); err != nil {
				return err
			}
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
		default:
			return d.Errf("unknown static option %q (expected max_age, immutable_max_age, compress or follow_symlinks)", d.Val())
		}
	}
	return nil
}

// UnmarshalCaddyfile sets up serving of uploads from a `media` segment of
// django_files:
//
//	media <url_prefix> [<dir>] | off {
//		max_age <duration>
//	}
func (m *MediaFiles) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume "media"
	off, err := filesPrefixAndDir(d, &m.URL, &m.Root)
	if err != nil {
		return err
	}
	m.Disabled = off
	for d.NextBlock(0) {
		if off {
			return d.Errf("media is off; remove the block or the `off`")
		}
		switch d.Val() {
		case "max_age":
			if err := durationArg(d, &m.MaxAge, minPositive); err != nil {
				return err
			}
		default:
			return d.Errf("unknown media option %q (expected max_age)", d.Val())
		}
	}
	return nil
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

// filesPrefixAndDir reads `<url_prefix> [<dir>]`, `off`, or nothing.
func filesPrefixAndDir(d *caddyfile.Dispenser, prefix, dir *string) (off bool, err error) {
	name := d.Val()
	args := d.RemainingArgs()
	switch {
	case len(args) == 1 && args[0] == "off":
		return true, nil
	case len(args) > 2:
		return false, d.Errf("%s takes a URL prefix and a directory, got %d arguments", name, len(args))
	}
	if len(args) >= 1 {
		p, err := normalizePrefix(args[0], "")
		if err != nil {
			return false, d.Errf("%s: %v", name, err)
		}
		*prefix = p
	}
	if len(args) == 2 {
		*dir = args[1]
	}
	return false, nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*DjangoFiles)(nil)
	_ caddyfile.Unmarshaler = (*StaticFiles)(nil)
	_ caddyfile.Unmarshaler = (*MediaFiles)(nil)
	_ caddyfile.Unmarshaler = (*ProtectedFiles)(nil)
)
